package runc

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/testenv"
)

// BenchmarkMountOverlay times mounting and unmounting a root filesystem of three layers with
// paths relative to the mount point (mountOverlay: a thread of its own, symlinks resolved)
// against the plain mount with absolute paths it replaced, alternating.
func BenchmarkMountOverlay(b *testing.B) {
	if os.Geteuid() != 0 {
		testenv.Require(b, "runc", "mounting overlays needs root")
	}
	dir := testenv.TempDir(b)
	var layers []string
	for i := range 3 {
		l := filepath.Join(dir, "images", fmt.Sprint(i))
		if err := os.MkdirAll(l, 0o755); err != nil {
			b.Fatal(err)
		}
		layers = append(layers, l)
	}
	p := paths{filepath.Join(dir, "sandboxes", "bench")}
	for _, d := range []string{p.upper(), p.work(), p.rootfs()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() { _ = unmount(p.rootfs()) })
	b.Run("relative", func(b *testing.B) {
		for b.Loop() {
			if err := mountOverlay(layers, p, p.upper(), p.work()); err != nil {
				b.Fatal(err)
			}
			if err := unmountTop(p.rootfs()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("absolute", func(b *testing.B) {
		opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(layers, ":"), p.upper(), p.work())
		for b.Loop() {
			if err := unix.Mount("overlay", p.rootfs(), "overlay", unix.MS_NODEV, opts); err != nil {
				b.Fatal(err)
			}
			if err := unmountTop(p.rootfs()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
