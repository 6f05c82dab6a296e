package runc

import (
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

func TestCheckMountPaths(t *testing.T) {
	cases := []struct {
		sub, dst string
		ok       bool
	}{
		{"", "/ws", true},
		{"a/b", "/home/user/ws", true},
		{".", "/ws", true},
		{"a..b", "/ws", true},
		{"/a", "/ws", false},
		{"..", "/ws", false},
		{"../a", "/ws", false},
		{"a/../../b", "/ws", false},
		{"a//b", "/ws", false},
		{"a/", "/ws", false},
		{"", "ws", false},
		{"", "/", false},
		{"", "/ws/", false},
		{"", "/ws/../etc", false},
		{"", "/proc", false},
		{"", "/proc/x", false},
		{"", "/dev/shm", false},
		{"", "/.paddock/bin", false},
		{"", "/process", true},
	}
	for _, c := range cases {
		err := checkMountPaths(sandbox.Mount{Volume: "v", SubPath: c.sub, Destination: c.dst})
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, errdefs.ErrInvalidArgument)) {
			t.Errorf("sub_path %q, destination %q: %v, want ok=%v", c.sub, c.dst, err, c.ok)
		}
	}
}

// FuzzCheckMountPaths checks that an accepted SubPath never leaves the volume and an accepted
// destination is a clean absolute path outside the reserved ones.
func FuzzCheckMountPaths(f *testing.F) {
	for _, s := range []string{"", "a/b", "..", "../x", "/etc", "a/./b", "a\x00b"} {
		f.Add(s, "/ws")
	}
	f.Fuzz(func(t *testing.T, sub, dst string) {
		if checkMountPaths(sandbox.Mount{SubPath: sub, Destination: dst}) != nil {
			return
		}
		if j := path.Join("/v", sub); path.IsAbs(sub) || (j != "/v" && !strings.HasPrefix(j, "/v/")) || (sub != "" && path.Clean(sub) != sub) {
			t.Errorf("accepted sub_path %q", sub)
		}
		if !path.IsAbs(dst) || path.Clean(dst) != dst || dst == "/" {
			t.Errorf("accepted destination %q", dst)
		}
		for _, r := range reservedDests {
			if dst == r || strings.HasPrefix(dst, r+"/") {
				t.Errorf("accepted reserved destination %q", dst)
			}
		}
	})
}
