package profile

import (
	"testing"

	"github.com/paddock/paddock/internal/sandbox"
)

func TestRlimits(t *testing.T) {
	cases := []struct {
		spec      sandbox.Spec
		nofile    [2]uint64
		memlock   uint64
		wantTypes int
	}{
		{sandbox.Spec{Profile: "permissive"}, [2]uint64{1024, 524288}, 8 << 20, 7},
		{sandbox.Spec{Profile: "moderate"}, [2]uint64{1024, 8192}, 8 << 20, 7},
		{sandbox.Spec{}, [2]uint64{1024, 8192}, 8 << 20, 7},
		{sandbox.Spec{Profile: "restrictive"}, [2]uint64{1024, 2048}, 64 << 10, 7},
		// More pids than the profile's: the guest's share of the hard limit grows with them.
		{sandbox.Spec{Profile: "restrictive", Pids: 1000}, [2]uint64{1024, 5024}, 64 << 10, 7},
		{sandbox.Spec{Profile: "moderate", Pids: 16}, [2]uint64{1024, 8192}, 8 << 20, 7},
		{sandbox.Spec{Profile: "moderate", Pids: maxPids}, [2]uint64{1024, 1 << 20}, 8 << 20, 7},
	}
	for _, c := range cases {
		sec, _, _, err := Resolve(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]sandbox.Rlimit{}
		for _, r := range sec.Rlimits {
			got[r.Type] = r
		}
		if len(got) != c.wantTypes || len(sec.Rlimits) != c.wantTypes {
			t.Errorf("%+v: rlimits %+v", c.spec, sec.Rlimits)
		}
		if n := got["RLIMIT_NOFILE"]; n.Soft != c.nofile[0] || n.Hard != c.nofile[1] {
			t.Errorf("%+v: NOFILE %d/%d, want %d/%d", c.spec, n.Soft, n.Hard, c.nofile[0], c.nofile[1])
		}
		if m := got["RLIMIT_MEMLOCK"]; m.Soft != c.memlock || m.Hard != c.memlock {
			t.Errorf("%+v: MEMLOCK %+v, want %d", c.spec, m, c.memlock)
		}
		for _, typ := range []string{"RLIMIT_CORE", "RLIMIT_RTPRIO", "RLIMIT_NICE"} {
			if r, ok := got[typ]; !ok || r.Soft != 0 || r.Hard != 0 {
				t.Errorf("%+v: %s = %+v, want 0", c.spec, typ, r)
			}
		}
		if _, ok := got["RLIMIT_NPROC"]; ok {
			t.Errorf("%+v: NPROC set; it is per uid across the host", c.spec)
		}
	}
}
