package profile

import (
	"errors"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

func TestDefaultsMatchTheTable(t *testing.T) {
	cases := []struct {
		name                string
		mem                 int64
		cpu                 float64
		pids                int64
		ro                  bool
		uid                 uint32
		caps                int
		network             sandbox.NetworkMode
		seccomp, defaultFor string
	}{
		{"permissive", 0, 0, 4096, false, 0, 14, sandbox.NetworkEgress, "docker-default", ""},
		{"moderate", 512, 1, 1024, false, 0, 8, sandbox.NetworkEgress, "moderate", ""},
		{"restrictive", 256, 0.5, 256, true, 1000, 0, sandbox.NetworkNone, "restrictive", ""},
		{"moderate", 512, 1, 1024, false, 0, 8, sandbox.NetworkEgress, "moderate", "default"},
	}
	for _, c := range cases {
		name := c.name
		if c.defaultFor != "" {
			name = ""
		}
		sec, res, nw, err := Resolve(sandbox.Spec{Profile: name})
		if err != nil {
			t.Fatal(err)
		}
		if res.MemoryMB != c.mem || res.VCPUs != c.cpu || res.Pids != c.pids || sec.ReadOnlyRoot != c.ro ||
			sec.UID != c.uid || len(sec.Capabilities) != c.caps || nw != c.network || sec.Seccomp != c.seccomp {
			t.Errorf("%q: %+v %+v %s", name, sec, res, nw)
		}
	}
}

func TestOverridesAndBadInput(t *testing.T) {
	sec, res, nw, err := Resolve(sandbox.Spec{Profile: "restrictive", MemoryMB: 64, VCPUs: 2, Pids: 99, User: "0:0", Network: "egress"})
	if err != nil || res.MemoryMB != 64 || res.VCPUs != 2 || res.Pids != 99 || sec.UID != 0 || nw != sandbox.NetworkEgress || !sec.ReadOnlyRoot {
		t.Errorf("overrides: %+v %+v %s %v", sec, res, nw, err)
	}
	if sec, _, _, _ := Resolve(sandbox.Spec{User: "someone"}); sec.UID != 0 {
		t.Errorf("named user changed the guest identity: %+v", sec)
	}
	bad := map[string]struct {
		spec sandbox.Spec
		msg  string
	}{
		"unknown profile": {sandbox.Spec{Profile: "yolo"}, "moderate, permissive, restrictive"},
		"negative memory": {sandbox.Spec{MemoryMB: -5}, "memory_mb"},
		"tiny memory":     {sandbox.Spec{MemoryMB: 1}, "memory_mb"},
		"huge cpu":        {sandbox.Spec{VCPUs: 5000}, "vcpus"},
		"negative pids":   {sandbox.Spec{Pids: -1}, "pids"},
		"network":         {sandbox.Spec{Network: "internet"}, "network"},
		"user gid":        {sandbox.Spec{User: "1000:x"}, "gid"},
	}
	for name, c := range bad {
		_, _, _, err := Resolve(c.spec)
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want invalid argument mentioning %q", name, err, c.msg)
		}
	}
}

func TestGetReturnsCopies(t *testing.T) {
	p, _ := Get("moderate")
	p.Capabilities[0] = "CAP_SYS_ADMIN"
	q, _ := Get("moderate")
	if q.Capabilities[0] == "CAP_SYS_ADMIN" {
		t.Fatal("Get leaked the shared capability slice")
	}
}

func TestDiskDefaultsAndRange(t *testing.T) {
	cases := []struct {
		spec      sandbox.Spec
		disk      int64
		tmpSizeMB int64
	}{
		{sandbox.Spec{Profile: "permissive"}, 8192, 0},
		{sandbox.Spec{Profile: "moderate"}, 2048, 0},
		{sandbox.Spec{}, 2048, 0},
		// A read-only root has no writable layer: disk_mb sizes its /tmp tmpfs.
		{sandbox.Spec{Profile: "restrictive"}, 64, 64},
		{sandbox.Spec{Profile: "restrictive", DiskMB: 100}, 100, 100},
		{sandbox.Spec{Profile: "moderate", DiskMB: 64}, 64, 0},
		{sandbox.Spec{DiskMB: 32}, 32, 0},
		{sandbox.Spec{DiskMB: 1 << 20}, 1 << 20, 0},
	}
	for _, c := range cases {
		sec, res, _, err := Resolve(c.spec)
		if err != nil || res.DiskMB != c.disk || sec.TmpSizeMB != c.tmpSizeMB {
			t.Errorf("%+v: disk %d, tmp %d, %v; want disk %d, tmp %d", c.spec, res.DiskMB, sec.TmpSizeMB, err, c.disk, c.tmpSizeMB)
		}
	}
	for _, mb := range []int64{-1, 1, 31, 1<<20 + 1} {
		_, _, _, err := Resolve(sandbox.Spec{DiskMB: mb})
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "disk_mb") {
			t.Errorf("disk_mb %d: %v, want invalid argument naming disk_mb", mb, err)
		}
	}
}
