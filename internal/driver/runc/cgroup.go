package runc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupRemoveWait bounds how long removeCgroups waits for a busy cgroup to empty.
const cgroupRemoveWait = time.Second

// removeCgroups removes what is left of a sandbox's cgroup after the runtime deleted the
// container. runc gives up when the cgroup is still busy (a pid namespace full of processes
// takes a moment to die), which would leak a directory per sandbox. The cgroup mounts are
// read from mountinfo, so this works on cgroup v1 and v2 alike; only rmdir is used, never a
// cgroup file.
func (d *Driver) removeCgroups(id string) error {
	rel := d.cgroupPath(id)
	deadline := time.Now().Add(cgroupRemoveWait)
	var errs []error
	for _, root := range cgroupMounts() {
		dir := filepath.Join(root, rel)
		if !strings.HasPrefix(dir, root+"/") {
			continue
		}
		for {
			err := unix.Rmdir(dir)
			if err == nil || errors.Is(err, unix.ENOENT) {
				break
			}
			if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
				errs = append(errs, fmt.Errorf("%s: %w", dir, err))
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return fmt.Errorf("%w (and %d more hierarchies)", errs[0], len(errs)-1)
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
