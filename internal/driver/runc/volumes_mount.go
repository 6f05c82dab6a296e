package runc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// A unit's mounts reach runc through staging directories the driver owns,
// <StateDir>/<id>/mounts/<n>: at Start each Mount's directory is resolved beneath its volume's
// root one element at a time with openat2, refusing symlinks (the sandbox controls what is in
// a volume), and the resulting descriptor is bind-mounted there. runc gets only staging paths,
// which no sandbox can change. Stop and Delete unmount them.

func (p paths) staging() string    { return filepath.Join(p.dir, "mounts") }
func (p paths) stage(i int) string { return filepath.Join(p.staging(), strconv.Itoa(i)) }

// reservedDests are where no volume may go: the kernel filesystems and the guest's files.
var reservedDests = []string{"/proc", "/sys", "/dev", "/.paddock"}

// checkMounts validates mounts: known volumes, clean paths, and no symlink among the
// directories of a SubPath that exist already (Start checks again, creating the rest). The
// caller holds volMu for reading.
func (d *Driver) checkMounts(ctx context.Context, mounts []sandbox.Mount) error {
	for _, m := range mounts {
		if err := checkMountPaths(m); err != nil {
			return err
		}
		vp, err := d.volumeReady(ctx, m.Volume)
		if err != nil {
			return err
		}
		fd, err := resolveBeneath(vp.fs(), m.SubPath, nil)
		if errors.Is(err, unix.ENOENT) {
			continue // made at Start
		}
		if err != nil {
			return err
		}
		unix.Close(fd)
	}
	return nil
}

// checkMountPaths rejects a destination that is not a clean absolute path or is reserved, and
// a SubPath that is not clean and relative.
func checkMountPaths(m sandbox.Mount) error {
	dst := m.Destination
	if !path.IsAbs(dst) || path.Clean(dst) != dst || dst == "/" {
		return errdefs.InvalidArgument("mount destination %q must be a clean absolute path below /", dst)
	}
	for _, r := range reservedDests {
		if dst == r || strings.HasPrefix(dst, r+"/") {
			return errdefs.InvalidArgument("mount destination %q is reserved", dst)
		}
	}
	sub := m.SubPath
	if sub != "" && (path.IsAbs(sub) || path.Clean(sub) != sub || sub == ".." || strings.HasPrefix(sub, "../")) {
		return errdefs.InvalidArgument("mount sub_path %q must be a clean relative path inside the volume", sub)
	}
	return nil
}

// owner is who owns the directories the driver creates in a volume.
type owner struct{ uid, gid int }

// resolveBeneath opens volume/data/sub as an O_PATH descriptor, one element at a time with
// openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV), so that nothing the sandbox
// put in the volume can lead elsewhere. With an owner it creates missing directories (owned
// by it); without one a missing element is unix.ENOENT. A symlink, a non-directory or a mount
// among the elements is an InvalidArgument-class error naming only sub.
func resolveBeneath(fsDir, sub string, own *owner) (int, error) {
	cur, err := unix.Open(fsDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open volume: %w", err)
	}
	elems := []string{volumeRoot}
	if sub != "" {
		elems = append(elems, strings.Split(sub, "/")...)
	}
	for _, e := range elems {
		next, err := openDir(cur, e)
		if errors.Is(err, unix.ENOENT) && own != nil {
			next, err = makeDir(cur, e, *own)
		}
		unix.Close(cur)
		if err != nil {
			return -1, resolveError(sub, e, err)
		}
		cur = next
	}
	return cur, nil
}

// openDir opens the directory name in dir, never through a symlink or a mount.
func openDir(dir int, name string) (int, error) {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS}
	for {
		fd, err := unix.Openat2(dir, name, &how)
		if !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.EAGAIN) {
			return fd, err
		}
	}
}

// makeDir creates name in dir and opens it; it belongs to own once opened (a directory that
// someone made meanwhile is opened as it is, under the same rules).
func makeDir(dir int, name string, own owner) (int, error) {
	err := unix.Mkdirat(dir, name, 0o755)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, err
	}
	fd, oerr := openDir(dir, name)
	if oerr != nil {
		return -1, oerr
	}
	if err == nil {
		// Through the descriptor: whatever replaced the name since is not touched.
		if cerr := unix.Fchownat(fd, "", own.uid, own.gid, unix.AT_EMPTY_PATH); cerr != nil {
			unix.Close(fd)
			return -1, cerr
		}
	}
	return fd, nil
}

// resolveError classes what openat2 said about element e of sub.
func resolveError(sub, e string, err error) error {
	switch {
	case errors.Is(err, unix.ELOOP):
		return errdefs.InvalidArgument("mount sub_path %q: %q is a symlink", sub, e)
	case errors.Is(err, unix.ENOTDIR):
		return errdefs.InvalidArgument("mount sub_path %q: %q is not a directory", sub, e)
	case errors.Is(err, unix.EXDEV):
		return errdefs.InvalidArgument("mount sub_path %q: %q is a mount point", sub, e)
	case errors.Is(err, unix.ENOSYS):
		return errdefs.FailedPrecondition("volumes need openat2 (Linux 5.6 or later) on the server")
	case errors.Is(err, unix.ENOENT):
		return err // the caller decides
	}
	return fmt.Errorf("mount sub_path %q: %w", sub, err)
}

// stageMounts resolves spec's mounts and bind-mounts each onto its staging directory. Where a
// mount lies inside an earlier one, its mount point is made in the earlier one's directory
// first: runc could not make it there once that one is read-only.
func (d *Driver) stageMounts(ctx context.Context, spec sandbox.InstanceSpec, p paths) error {
	if err := unstageMounts(p); err != nil {
		return err
	}
	if len(spec.Mounts) == 0 {
		return nil
	}
	if err := os.Mkdir(p.staging(), 0o700); err != nil {
		return fmt.Errorf("start %s: %w", spec.ID, err)
	}
	own := owner{int(spec.Security.UID), int(spec.Security.GID)}
	fds := make([]int, 0, len(spec.Mounts))
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	d.volMu.RLock()
	defer d.volMu.RUnlock()
	for i, m := range spec.Mounts {
		if err := checkMountPaths(m); err != nil {
			return err
		}
		vp, err := d.volumeReady(ctx, m.Volume)
		if err != nil {
			return err
		}
		fd, err := resolveBeneath(vp.fs(), m.SubPath, &own)
		if err != nil {
			return err
		}
		fds = append(fds, fd)
		if err := makeMountPoint(spec.Mounts[:i], fds, m.Destination, own); err != nil {
			return err
		}
	}
	for i, m := range spec.Mounts {
		if err := bindStage(fds[i], p.stage(i), m.ReadOnly); err != nil {
			return fmt.Errorf("start %s: mount %d: %w", spec.ID, i, err)
		}
	}
	return nil
}

// makeMountPoint makes dst's directory in the innermost earlier mount that holds it (the last
// one listed, among equals), through that mount's descriptor.
func makeMountPoint(earlier []sandbox.Mount, fds []int, dst string, own owner) error {
	best := -1
	for j, m := range earlier {
		if strings.HasPrefix(dst, m.Destination+"/") && (best < 0 || len(m.Destination) >= len(earlier[best].Destination)) {
			best = j
		}
	}
	if best < 0 {
		return nil
	}
	rel := strings.TrimPrefix(dst, earlier[best].Destination+"/")
	cur, err := unix.FcntlInt(uintptr(fds[best]), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	for _, e := range strings.Split(rel, "/") {
		next, err := openDir(cur, e)
		if errors.Is(err, unix.ENOENT) {
			next, err = makeDir(cur, e, own)
		}
		unix.Close(cur)
		if err != nil {
			return resolveError(earlier[best].SubPath+"/"+rel, e, err)
		}
		cur = next
	}
	unix.Close(cur)
	return nil
}

// bindStage bind-mounts the directory behind fd onto target (made here), nosuid and nodev,
// and read-only when ro; runc applies the same flags again to its own bind.
func bindStage(fd int, target string, ro bool) error {
	if err := os.Mkdir(target, 0o700); err != nil {
		return err
	}
	if err := unix.Mount("/proc/self/fd/"+strconv.Itoa(fd), target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	flags := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_NOSUID | unix.MS_NODEV)
	if ro {
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("", target, "", flags, ""); err != nil {
		return fmt.Errorf("remount: %w", err)
	}
	return nil
}

// unstageMounts unmounts a unit's staging directories and removes them; it never removes
// through a mount (that would empty the volume).
func unstageMounts(p paths) error {
	entries, err := os.ReadDir(p.staging())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unstage mounts: %w", err)
	}
	for _, e := range entries {
		if err := unmount(filepath.Join(p.staging(), e.Name())); err != nil {
			return fmt.Errorf("unstage mounts: %w", err)
		}
	}
	if left, err := mountsUnder(p.staging()); err != nil || len(left) > 0 {
		return fmt.Errorf("unstage mounts: still mounted: %v %v", left, err)
	}
	return os.RemoveAll(p.staging())
}

// volumeMounts are the OCI mounts of spec's volumes, from their staging directories.
func volumeMounts(in sandbox.InstanceSpec, p paths) []specs.Mount {
	ms := make([]specs.Mount, 0, len(in.Mounts))
	for i, m := range in.Mounts {
		opts := []string{"bind", "nosuid", "nodev"}
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		ms = append(ms, specs.Mount{Destination: m.Destination, Type: "bind", Source: p.stage(i), Options: opts})
	}
	return ms
}
