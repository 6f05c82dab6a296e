package runc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// A volume lives in <VolumeDir>/<id>/: volume.json (what ListVolumes reports), volume.img (an
// ext4 image of SizeMB MiB, a sparse copy of the golden image of that size, as sandbox disks
// are) and fs/, where the image is mounted on a loop device for the driver's lifetime (from
// its first use until DeleteVolume or Close). Units see fs/data, which the first mount
// creates, owned by the mounting unit's user. Without loop devices a volume is the plain
// directory fs/ and unbounded (SizeMB 0).

// DefaultVolumeMB is the size of a volume made with SizeMB 0: 10 GiB. The image is sparse, so
// a volume costs the host what it holds, not its size.
const DefaultVolumeMB = 10240

var volumeIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)

var _ sandbox.VolumeManager = (*Driver)(nil)

// volPaths are the files of one volume.
type volPaths struct{ dir string }

func (d *Driver) volume(id string) volPaths { return volPaths{filepath.Join(d.cfg.VolumeDir, id)} }
func (v volPaths) record() string           { return filepath.Join(v.dir, "volume.json") }
func (v volPaths) image() string            { return filepath.Join(v.dir, "volume.img") }
func (v volPaths) fs() string               { return filepath.Join(v.dir, "fs") }

// volumeRoot is the directory units see, relative to fs().
const volumeRoot = "data"

// CreateVolume implements sandbox.VolumeManager. A directory left by a create cut short (it
// has no volume.json) is replaced.
func (d *Driver) CreateVolume(ctx context.Context, v sandbox.Volume) (err error) {
	if !volumeIDRE.MatchString(v.ID) {
		return errdefs.InvalidArgument("invalid volume ID %q: want 1-100 of [A-Za-z0-9_.-], not starting with a punctuation mark", v.ID)
	}
	if v.SizeMB < 0 {
		return errdefs.InvalidArgument("volume size %d MiB is negative", v.SizeMB)
	}
	d.volMu.Lock()
	defer d.volMu.Unlock()
	vp := d.volume(v.ID)
	if _, err := os.Stat(vp.record()); err == nil {
		return errdefs.AlreadyExists("volume %s already exists", v.ID)
	}
	if err := d.removeVolumeDir(vp); err != nil {
		return fmt.Errorf("create volume %s: %w", v.ID, err)
	}
	if err := os.MkdirAll(vp.fs(), 0o700); err != nil {
		return fmt.Errorf("create volume %s: %w", v.ID, err)
	}
	defer func() {
		if err != nil {
			if rerr := d.removeVolumeDir(vp); rerr != nil {
				d.log.Warn("undo volume create", "volume", v.ID, "err", rerr)
			}
		}
	}()
	if d.disks.err != nil {
		v.SizeMB = 0 // no loop devices: a plain directory, unbounded
	} else {
		if v.SizeMB == 0 {
			v.SizeMB = DefaultVolumeMB
		}
		golden, err := d.disks.golden(v.SizeMB)
		if err != nil {
			return fmt.Errorf("create volume %s: %w", v.ID, err)
		}
		if err := copySparse(golden, vp.image()); err != nil {
			return fmt.Errorf("create volume %s: copy image: %w", v.ID, err)
		}
		if err := d.mountVolume(ctx, vp); err != nil {
			return fmt.Errorf("create volume %s: %w", v.ID, err)
		}
	}
	return writeJSON(vp.record(), v)
}

// DeleteVolume implements sandbox.VolumeManager: refused while a unit's recorded spec mounts
// the volume; otherwise unmounted and removed with its content.
func (d *Driver) DeleteVolume(_ context.Context, id string) error {
	if !volumeIDRE.MatchString(id) {
		return nil
	}
	d.volMu.Lock()
	defer d.volMu.Unlock()
	vp := d.volume(id)
	if _, err := os.Lstat(vp.dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	users, err := d.unitsMounting(id)
	if err != nil {
		return fmt.Errorf("delete volume %s: %w", id, err)
	}
	if len(users) > 0 {
		return errdefs.FailedPrecondition("volume %s is mounted by sandbox %s", id, strings.Join(users, ", "))
	}
	if err := d.removeVolumeDir(vp); err != nil {
		return fmt.Errorf("delete volume %s: %w", id, err)
	}
	return nil
}

// ListVolumes implements sandbox.VolumeManager, sorted by ID. A volume whose create or delete
// was cut short is listed by its ID alone, for a reconciler to delete.
func (d *Driver) ListVolumes(context.Context) ([]sandbox.Volume, error) {
	d.volMu.RLock()
	defer d.volMu.RUnlock()
	entries, err := os.ReadDir(d.cfg.VolumeDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	var out []sandbox.Volume
	for _, e := range entries {
		if !e.IsDir() || !volumeIDRE.MatchString(e.Name()) {
			continue
		}
		v := sandbox.Volume{ID: e.Name()}
		if b, err := os.ReadFile(d.volume(e.Name()).record()); err == nil {
			_ = json.Unmarshal(b, &v)
			v.ID = e.Name()
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// SetMounts implements sandbox.VolumeManager: the unit's recorded spec gets mounts, for its
// next Start.
func (d *Driver) SetMounts(ctx context.Context, id string, mounts []sandbox.Mount) error {
	spec, err := d.readInstance(id)
	if err != nil {
		return err
	}
	if st, err := d.state(ctx, id); err == nil && (st.Status == "running" || st.Status == "paused") {
		return errdefs.FailedPrecondition("sandbox %s is %s: stop it to change its mounts", id, st.Status)
	}
	d.volMu.RLock()
	defer d.volMu.RUnlock()
	if err := d.checkMounts(ctx, mounts); err != nil {
		return err
	}
	spec.Mounts = append([]sandbox.Mount(nil), mounts...)
	return d.writeInstance(spec)
}

// Close unmounts the volumes this driver mounted on the host. Units that run keep theirs: a
// later driver mounts the loop device they still use rather than attaching the image twice.
func (d *Driver) Close() error {
	d.volMu.Lock()
	defer d.volMu.Unlock()
	entries, err := os.ReadDir(d.cfg.VolumeDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("close: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if err := unmount(d.volume(e.Name()).fs()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// unitsMounting lists the units whose recorded spec mounts volume id.
func (d *Driver) unitsMounting(id string) ([]string, error) {
	entries, err := os.ReadDir(d.cfg.StateDir)
	if err != nil {
		return nil, err
	}
	var users []string
	for _, e := range entries {
		if !e.IsDir() || !idRE.MatchString(e.Name()) {
			continue
		}
		spec, err := d.readInstance(e.Name())
		if err != nil {
			continue // no spec: a create cut short, which mounts nothing
		}
		for _, m := range spec.Mounts {
			if m.Volume == id {
				users = append(users, e.Name())
				break
			}
		}
	}
	return users, nil
}

// removeVolumeDir unmounts a volume and removes its directory; the record goes first, so that
// a crash midway leaves a directory ListVolumes reports without details. It never removes
// through a mount.
func (d *Driver) removeVolumeDir(vp volPaths) error {
	if _, err := os.Lstat(vp.dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := os.Remove(vp.record()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := unmount(vp.fs()); err != nil {
		return err
	}
	if mounts, err := mountsUnder(vp.dir); err != nil || len(mounts) > 0 {
		return fmt.Errorf("still mounted: %v %v", mounts, err)
	}
	return os.RemoveAll(vp.dir)
}

// mountVolume mounts a bounded volume's image at fs() unless it is mounted there already.
// When a loop device still holds the image (a unit that runs keeps the filesystem after the
// host's mount went with Close or a crash), that device is mounted: the kernel then shares one
// filesystem between both mounts, where a second device would corrupt it.
func (d *Driver) mountVolume(ctx context.Context, vp volPaths) error {
	d.mountMu.Lock()
	defer d.mountMu.Unlock()
	if isMountPoint(vp.fs()) {
		return nil
	}
	const flags = unix.MS_NODEV | unix.MS_NOSUID
	const opts = "noinit_itable,discard"
	if dev := loopOf(vp.image()); dev != "" {
		if err := unix.Mount(dev, vp.fs(), "ext4", flags, opts); err == nil {
			return nil
		}
		// Detached meanwhile (the last unit ended): attach it afresh.
	}
	if err := d.disks.check(ctx, vp.image()); err != nil {
		return err
	}
	dev, fd, err := attachLoop(vp.image())
	if err != nil {
		return fmt.Errorf("attach volume: %w", err)
	}
	err = unix.Mount(dev, vp.fs(), "ext4", flags, opts)
	unix.Close(fd) // the mount holds the device now; without one, it detaches itself
	if err != nil {
		return fmt.Errorf("mount volume: %w", err)
	}
	return nil
}

// loopOf returns the loop device attached to image ("" when none is).
func loopOf(image string) string {
	if real, err := filepath.EvalSymlinks(image); err == nil {
		image = real
	}
	files, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	for _, f := range files {
		dev := filepath.Base(filepath.Dir(filepath.Dir(f)))
		if loopHolds(dev, image) {
			return "/dev/" + dev
		}
	}
	return ""
}

// volumeReady mounts volume id when it is bounded, and reports NotFound when there is none.
func (d *Driver) volumeReady(ctx context.Context, id string) (volPaths, error) {
	vp := d.volume(id)
	if !volumeIDRE.MatchString(id) {
		return vp, errdefs.NotFound("volume %q not found", id)
	}
	if _, err := os.Stat(vp.record()); err != nil {
		return vp, errdefs.NotFound("volume %s not found", id)
	}
	if _, err := os.Stat(vp.image()); err == nil {
		if err := d.mountVolume(ctx, vp); err != nil {
			return vp, fmt.Errorf("volume %s: %w", id, err)
		}
	}
	return vp, nil
}

// writeJSON writes v to path whole, through a temporary file and a rename.
func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
