package manager

import (
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// diskLimit checks that the driver enforces res.DiskMB. When it cannot (a host without loop
// devices, a driver without disk limits), a profile's default is dropped, so that the sandbox
// reports no limit, and an explicit disk_mb is refused: a limit is never silently ignored.
func (m *Manager) diskLimit(spec sandbox.Spec, sec sandbox.Security, res sandbox.Resources) (sandbox.Resources, error) {
	if res.DiskMB == 0 {
		return res, nil
	}
	var err error
	if dl, ok := m.driver.(sandbox.DiskLimiter); ok {
		err = dl.CheckDiskLimit(sandbox.InstanceSpec{Resources: res, Security: sec})
	} else {
		err = errdefs.InvalidArgument("the %s driver has no disk limits", m.driver.Name())
	}
	switch {
	case err == nil:
		return res, nil
	case spec.DiskMB > 0:
		return res, errdefs.InvalidArgument("disk_mb cannot be enforced on this server: %v", err)
	}
	res.DiskMB = 0
	return res, nil
}
