package runc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
)

// mountOverlay mounts the root filesystem: the image layers (listed lowest first) under the
// sandbox's writable upper dir. The options name every directory relative to the mount
// point: /proc/self/mountinfo shows them, inside the sandbox too, and must not tell it
// where the data dir is. (Image pruning reads them back relative to the mount point.)
func mountOverlay(layers []string, p paths, upper, work string) error {
	if err := checkLayers(layers); err != nil {
		return err
	}
	target, err := filepath.EvalSymlinks(p.rootfs())
	if err != nil {
		return fmt.Errorf("mount root filesystem: %w", err)
	}
	dirs := make([]string, 0, len(layers)+2)
	for i := len(layers) - 1; i >= 0; i-- {
		dirs = append(dirs, layers[i]) // overlay lists the top layer first
	}
	dirs = append(dirs, upper, work)
	for i, d := range dirs {
		if dirs[i], err = relativeTo(target, d); err != nil {
			return fmt.Errorf("mount root filesystem: %w", err)
		}
	}
	_ = unmount(target) // a stale mount from a crash
	n := len(layers)
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(dirs[:n], ":"), dirs[n], dirs[n+1])
	if err := mountFrom(target, "overlay", target, "overlay", unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount root filesystem: %w", err)
	}
	return nil
}

// relativeTo returns dir relative to base, both without symlinks: the kernel walks ".."
// from where base really is.
func relativeTo(base, dir string) (string, error) {
	resolved, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	return filepath.Rel(base, resolved)
}

// mountFrom runs mount(2) with dir as the working directory, against which the kernel
// resolves relative paths in data. The working directory is shared by all threads of a
// process, so the call runs on a thread that unshares it first, and that thread ends with
// its goroutine (it is never unlocked) instead of going back to the runtime.
func mountFrom(dir, source, target, fstype string, flags uintptr, data string) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			errc <- fmt.Errorf("unshare the working directory: %w", err)
			return
		}
		if err := unix.Chdir(dir); err != nil {
			errc <- err
			return
		}
		errc <- unix.Mount(source, target, fstype, flags, data)
	}()
	return <-errc
}

// checkLayers rejects layer lists that the overlay mount options cannot carry.
func checkLayers(layers []string) error {
	if len(layers) == 0 {
		return errdefs.InvalidArgument("image has no layers")
	}
	for _, l := range layers {
		if !filepath.IsAbs(l) || strings.ContainsAny(l, ":,\\") {
			return errdefs.InvalidArgument("layer path %q must be absolute, without ':', ',' or '\\'", l)
		}
	}
	return nil
}

// unmount detaches path if something is mounted there; not mounted is fine.
func unmount(path string) error {
	for i := 0; i < 50; i++ {
		err := unix.Unmount(path, 0)
		switch {
		case err == nil:
			continue // stacked mounts: go again until nothing is left
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil
		case errors.Is(err, unix.EBUSY):
			time.Sleep(10 * time.Millisecond)
		default:
			return fmt.Errorf("unmount %s: %w", path, err)
		}
	}
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	return nil
}

// unmountTop detaches the topmost mount at path only, lazily if it is busy.
func unmountTop(path string) error {
	err := unix.Unmount(path, 0)
	if errors.Is(err, unix.EBUSY) {
		err = unix.Unmount(path, unix.MNT_DETACH)
	}
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	return nil
}

// isMountPoint reports whether something is mounted at dir: its device differs from its
// parent's. (A bind mount of the same filesystem would escape this test; the driver only
// ever mounts overlays and sandbox disks here.)
func isMountPoint(dir string) bool {
	var st, parent unix.Stat_t
	if unix.Lstat(dir, &st) != nil || unix.Lstat(dir+"/..", &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev
}

// mountsUnder lists mount points at or below dir in our mount namespace.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out, sc.Err()
}

// unescapeMount decodes mountinfo's octal escapes (\040 for space, ...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
