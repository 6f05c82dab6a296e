package fake

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

var _ sandbox.VolumeManager = (*Driver)(nil)

// CreateVolume implements sandbox.VolumeManager: a volume is a directory under the driver's
// dir (VolumePath). The fake runs processes on the host, so mounts are recorded and checked
// but not applied: a process sees the host's paths, not the volume at Destination.
func (d *Driver) CreateVolume(_ context.Context, v sandbox.Volume) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if v.ID == "" || strings.ContainsAny(v.ID, "/\\") || v.ID == "." || v.ID == ".." {
		return errdefs.InvalidArgument("volume ID %q is not valid", v.ID)
	}
	if _, ok := d.volumes[v.ID]; ok {
		return errdefs.AlreadyExists("volume %s already exists", v.ID)
	}
	if err := os.MkdirAll(d.VolumePath(v.ID), 0o755); err != nil {
		return err
	}
	d.volumes[v.ID] = v
	return nil
}

// DeleteVolume implements sandbox.VolumeManager.
func (d *Driver) DeleteVolume(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.volumes[id]; !ok {
		return nil
	}
	for uid, u := range d.units {
		for _, m := range u.spec.Mounts {
			if m.Volume == id {
				return errdefs.FailedPrecondition("volume %s is mounted by unit %s", id, uid)
			}
		}
	}
	delete(d.volumes, id)
	return os.RemoveAll(d.VolumePath(id))
}

// ListVolumes implements sandbox.VolumeManager.
func (d *Driver) ListVolumes(context.Context) ([]sandbox.Volume, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]sandbox.Volume, 0, len(d.volumes))
	for _, v := range d.volumes {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// SetMounts implements sandbox.VolumeManager.
func (d *Driver) SetMounts(_ context.Context, id string, mounts []sandbox.Mount) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.get(id)
	if err != nil {
		return err
	}
	if u.state != sandbox.StateStopped {
		return errdefs.FailedPrecondition("unit %s is %s: stop it to change its mounts", id, u.state)
	}
	if err := d.checkMounts(mounts); err != nil {
		return err
	}
	u.spec.Mounts = append([]sandbox.Mount(nil), mounts...)
	return nil
}

// Mounts returns the mounts recorded for unit id (for tests).
func (d *Driver) Mounts(id string) ([]sandbox.Mount, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.get(id)
	if err != nil {
		return nil, err
	}
	return append([]sandbox.Mount(nil), u.spec.Mounts...), nil
}

// VolumePath is the host directory holding volume id.
func (d *Driver) VolumePath(id string) string { return filepath.Join(d.dir, "volumes", id) }

// checkMounts validates mounts as a real driver would; the caller holds d.mu.
func (d *Driver) checkMounts(mounts []sandbox.Mount) error {
	for _, m := range mounts {
		if _, ok := d.volumes[m.Volume]; !ok {
			return errdefs.NotFound("volume %s not found", m.Volume)
		}
		if !path.IsAbs(m.Destination) || path.Clean(m.Destination) != m.Destination {
			return errdefs.InvalidArgument("mount destination %q must be a clean absolute path", m.Destination)
		}
		if m.SubPath != "" && (path.IsAbs(m.SubPath) || path.Clean(m.SubPath) != m.SubPath ||
			m.SubPath == ".." || strings.HasPrefix(m.SubPath, "../")) {
			return errdefs.InvalidArgument("mount sub_path %q must be a clean relative path inside the volume", m.SubPath)
		}
	}
	return nil
}
