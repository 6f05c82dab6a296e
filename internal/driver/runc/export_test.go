package runc

import "errors"

// UseUnifiedUserCgroups makes d give sandboxes the user cgroup of a cgroup v2 host on this
// host's cgroup2 mount, whatever controllers it has: on a hybrid host, whose cgroup2 mount
// has no pids controller, that exercises the threaded user cgroup without its limit. It
// reports false when there is no cgroup2 mount.
func UseUnifiedUserCgroups(d *Driver) bool {
	for _, m := range cgroupMounts() {
		if m.v2 {
			d.ucg = &userCgroups{v2: &m}
			return true
		}
	}
	return false
}

// DisableDiskLimits makes d behave as on a host without loop devices: no disk limits, and
// volumes that are plain directories.
func DisableDiskLimits(d *Driver) { d.disks.err = errors.New("disabled for a test") }
