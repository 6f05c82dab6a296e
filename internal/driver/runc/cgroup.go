package runc

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// removeCgroups removes what is left of a sandbox's cgroup after the runtime deleted the
// container. runc gives up when the cgroup is still busy (a pid namespace full of processes
// takes a moment to die), which would leak a directory per sandbox. The cgroup mounts are
// read from mountinfo, so this works on cgroup v1 and v2 alike.
func (d *Driver) removeCgroups(id string) error {
	rel := filepath.Join(d.cfg.CgroupParent, id)
	var last error
	for _, root := range cgroupMounts() {
		dir := filepath.Join(root, rel)
		if !strings.HasPrefix(dir, root+"/") {
			continue
		}
		for i := 0; i < 100; i++ {
			err := unix.Rmdir(dir)
			if err == nil || errors.Is(err, unix.ENOENT) {
				last = nil
				break
			}
			last = err
			if !errors.Is(err, unix.EBUSY) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return last
}

// cgroupMounts returns the mount points of cgroup (v1) and cgroup2 filesystems.
func cgroupMounts() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, v := range fields {
			if v == "-" && i+1 < len(fields) && (fields[i+1] == "cgroup" || fields[i+1] == "cgroup2") && len(fields) > 4 {
				out = append(out, unescapeMount(fields[4]))
				break
			}
		}
	}
	return out
}
