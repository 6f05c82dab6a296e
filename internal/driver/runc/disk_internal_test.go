package runc

import (
	"testing"

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
