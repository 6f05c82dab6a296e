package runc

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/profile"
	"github.com/paddock/paddock/internal/sandbox"
)

// TestRestrictiveDiskIsItsTmp checks that a read-only root's disk_mb bounds the /tmp tmpfs
// (size and inodes) and gives it no filesystem image.
func TestRestrictiveDiskIsItsTmp(t *testing.T) {
	sec, res, nw, err := profile.Resolve(sandbox.Spec{Profile: "restrictive", DiskMB: 100})
	if err != nil {
		t.Fatal(err)
	}
	in := sandbox.InstanceSpec{ID: "abc123", Resources: res, Security: sec, Network: nw,
		Image: sandbox.Image{Layers: []string{"/layers/0"}}}
	if diskLimited(in) {
		t.Error("a read-only root got a disk image")
	}
	m, ok := mountAt(build(t, in), "/tmp")
	if !ok || !hasAll(m.Options, "size=100m", "nr_inodes=6400") {
		t.Errorf("/tmp = %+v (found %v), want size=100m,nr_inodes=6400", m, ok)
	}
	if upper, _ := (paths{"/s/abc123"}).writable(in); upper != "/s/abc123/upper" {
		t.Errorf("upper dir %s, want the plain /s/abc123/upper", upper)
	}
	in = instance(t, "moderate")
	if upper, work := (paths{"/s/abc123"}).writable(in); !diskLimited(in) || upper != "/s/abc123/disk/upper" || work != "/s/abc123/disk/work" {
		t.Errorf("moderate: limited %v, upper %s, work %s; want both in /s/abc123/disk", diskLimited(in), upper, work)
	}
}

// BenchmarkDiskSteps measures what a disk adds to a sandbox's life, step by step, on a
// 2 GiB image: the sparse copy at create, attach and mount at start, unmount at stop, and
// shutdown and unmount at delete. Needs root, mkfs.ext4 and loop devices.
func BenchmarkDiskSteps(b *testing.B) {
	dir := b.TempDir()
	ds := newDisks(filepath.Join(dir, "golden"), slog.New(slog.DiscardHandler))
	if ds.err != nil {
		b.Skip(ds.err)
	}
	golden, err := ds.golden(2048)
	if err != nil {
		b.Fatal(err)
	}
	var copyT, mountT, stopT, deleteT []time.Duration
	timed := func(ds *[]time.Duration, fn func() error) {
		start := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		*ds = append(*ds, time.Since(start))
	}
	for i := 0; b.Loop(); i++ {
		p := paths{filepath.Join(dir, strconv.Itoa(i))}
		if err := os.MkdirAll(p.disk(), 0o700); err != nil {
			b.Fatal(err)
		}
		upper, work := p.writable(sandbox.InstanceSpec{Resources: sandbox.Resources{DiskMB: 2048}})
		timed(&copyT, func() error { return copySparse(golden, p.diskImage()) })
		timed(&mountT, func() error { return ds.mount(context.Background(), p, upper, work) })
		if err := os.WriteFile(filepath.Join(upper, "f"), []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
		timed(&stopT, func() error { return ds.unmount(p, false) })
		if err := ds.mount(context.Background(), p, upper, work); err != nil {
			b.Fatal(err)
		}
		timed(&deleteT, func() error { return ds.unmount(p, true) })
		if err := os.RemoveAll(p.dir); err != nil {
			b.Fatal(err)
		}
	}
	for _, m := range []struct {
		name string
		ds   []time.Duration
	}{{"copy", copyT}, {"mount", mountT}, {"unmount", stopT}, {"discard", deleteT}} {
		slices.Sort(m.ds)
		b.ReportMetric(float64(m.ds[len(m.ds)/2].Microseconds())/1000, m.name+"-p50-ms")
		b.ReportMetric(float64(m.ds[min(len(m.ds)-1, len(m.ds)*99/100)].Microseconds())/1000, m.name+"-p99-ms")
	}
}
