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

	"github.com/paddock/paddock/internal/errdefs"
)

// mountOverlay mounts the root filesystem: the image layers (listed lowest first) under the
// sandbox's writable upper dir.
func mountOverlay(layers []string, p paths, upper, work string) error {
	if err := checkLayers(layers); err != nil {
		return err
	}
	lower := make([]string, len(layers))
	for i, l := range layers {
		lower[len(layers)-1-i] = l // overlay lists the top layer first
	}
	_ = unmount(p.rootfs()) // a stale mount from a crash
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lower, ":"), upper, work)
	if err := unix.Mount("overlay", p.rootfs(), "overlay", unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount root filesystem: %w", err)
	}
	return nil
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
