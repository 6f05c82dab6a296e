package manager

import (
	"context"
	"fmt"
	"path"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// volumes returns the driver's volume manager, or a failed-precondition error when the
// driver keeps no volumes.
func (m *Manager) volumes() (sandbox.VolumeManager, error) {
	vm, ok := m.driver.(sandbox.VolumeManager)
	if !ok {
		return nil, errdefs.FailedPrecondition("the %s driver keeps no volumes", m.driver.Name())
	}
	return vm, nil
}

// CreateVolume makes an empty volume (a persistent workspace, a shared folder) that outlives
// the sandboxes mounting it; a taken ID is ErrAlreadyExists-class. Volumes carry no owner: the
// domain that makes one (the fleet) decides who may mount it.
func (m *Manager) CreateVolume(ctx context.Context, v sandbox.Volume) error {
	vm, err := m.volumes()
	if err != nil {
		return err
	}
	if v.ID == "" {
		return errdefs.InvalidArgument("a volume needs an ID")
	}
	if err := vm.CreateVolume(ctx, v); err != nil {
		return fmt.Errorf("create volume %s: %w", v.ID, err)
	}
	m.log.Info("volume created", "volume", v.ID, "size_mb", v.SizeMB)
	return nil
}

// DeleteVolume removes a volume and its content. A volume that is gone is nil; one that a
// sandbox which exists still mounts is ErrFailedPrecondition-class.
func (m *Manager) DeleteVolume(ctx context.Context, id string) error {
	vm, err := m.volumes()
	if err != nil {
		return err
	}
	if err := vm.DeleteVolume(ctx, id); err != nil {
		return fmt.Errorf("delete volume %s: %w", id, err)
	}
	m.log.Info("volume deleted", "volume", id)
	return nil
}

// ListVolumes returns every volume the driver keeps.
func (m *Manager) ListVolumes(ctx context.Context) ([]sandbox.Volume, error) {
	vm, err := m.volumes()
	if err != nil {
		return nil, err
	}
	return vm.ListVolumes(ctx)
}

// SetMounts replaces the mounts of a stopped sandbox for its next start (the caller needs to
// operate it). A running or paused sandbox is ErrFailedPrecondition-class: stop it first.
func (m *Manager) SetMounts(ctx context.Context, idOrName string, mounts []sandbox.Mount) error {
	vm, err := m.volumes()
	if err != nil {
		return err
	}
	sb, unlock, err := m.locked(ctx, idOrName, AccessOperate)
	if err != nil {
		return err
	}
	defer unlock()
	if sb.State != sandbox.StateStopped && sb.State != sandbox.StateFailed {
		return errdefs.FailedPrecondition("sandbox %q is %s: stop it to change its mounts", sb.Name, sb.State)
	}
	if err := m.checkMounts(ctx, vm, mounts); err != nil {
		return err
	}
	if err := vm.SetMounts(ctx, sb.ID, mounts); err != nil {
		return fmt.Errorf("set mounts of %s: %w", sb.Name, err)
	}
	sb.Spec.Mounts = append([]sandbox.Mount(nil), mounts...)
	sb.Instance.Mounts = append([]sandbox.Mount(nil), mounts...)
	sb.UpdatedAt = m.cfg.Now().UTC()
	return m.updateRecord(ctx, sb)
}

// checkMounts validates mounts before a driver sees them: every volume exists, destinations
// are absolute, clean and distinct, sub-paths relative and clean.
func (m *Manager) checkMounts(ctx context.Context, vm sandbox.VolumeManager, mounts []sandbox.Mount) error {
	if len(mounts) == 0 {
		return nil
	}
	vols, err := vm.ListVolumes(ctx)
	if err != nil {
		return fmt.Errorf("list volumes: %w", err)
	}
	known := map[string]bool{}
	for _, v := range vols {
		known[v.ID] = true
	}
	seen := map[string]bool{}
	for i, mt := range mounts {
		switch {
		case !known[mt.Volume]:
			return errdefs.NotFound("mounts[%d]: volume %q not found", i, mt.Volume)
		case !path.IsAbs(mt.Destination) || path.Clean(mt.Destination) != mt.Destination || mt.Destination == "/":
			return errdefs.InvalidArgument("mounts[%d]: destination %q must be a clean absolute path other than /", i, mt.Destination)
		case seen[mt.Destination]:
			return errdefs.InvalidArgument("mounts[%d]: destination %q is mounted twice", i, mt.Destination)
		case mt.SubPath != "" && (path.IsAbs(mt.SubPath) || path.Clean(mt.SubPath) != mt.SubPath || mt.SubPath == ".." ||
			len(mt.SubPath) > 2 && mt.SubPath[:3] == "../"):
			return errdefs.InvalidArgument("mounts[%d]: sub_path %q must be a clean relative path inside the volume", i, mt.SubPath)
		}
		seen[mt.Destination] = true
	}
	return nil
}

// prepareMounts validates spec's mounts for a create and copies them into inst.
func (m *Manager) prepareMounts(ctx context.Context, spec sandbox.Spec, inst *sandbox.InstanceSpec) error {
	if len(spec.Mounts) == 0 {
		return nil
	}
	vm, err := m.volumes()
	if err != nil {
		return err
	}
	if err := m.checkMounts(ctx, vm, spec.Mounts); err != nil {
		return err
	}
	inst.Mounts = append([]sandbox.Mount(nil), spec.Mounts...)
	return nil
}
