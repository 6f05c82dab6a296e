package runc

import (
	"errors"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

func TestParseStats(t *testing.T) {
	cases := []struct {
		name                   string
		in                     string
		cpu, mem, cache, limit uint64
		pids, pidsLimit        uint64
	}{
		{"cgroup v1",
			`{"type":"stats","id":"a","data":{"cpu":{"usage":{"total":123}},"memory":{"usage":{"usage":4096,"limit":536870912},"cache":99,"raw":{"cache":1024,"rss":3072}},"pids":{"current":3,"limit":1024}}}`,
			123, 4096, 1024, 536870912, 3, 1024},
		{"cgroup v2",
			`{"type":"stats","id":"a","data":{"cpu":{"usage":{"total":5}},"memory":{"usage":{"usage":8192,"limit":1048576},"raw":{"file":2048,"anon":6144}},"pids":{"current":1,"limit":64}}}`,
			5, 8192, 2048, 1048576, 1, 64},
		{"v1 unlimited",
			`{"type":"stats","data":{"memory":{"usage":{"usage":1,"limit":9223372036854771712}}}}`,
			0, 1, 0, 0, 0, 0},
		{"v2 unlimited",
			`{"type":"stats","data":{"memory":{"usage":{"usage":1,"limit":18446744073709551615}}}}`,
			0, 1, 0, 0, 0, 0},
		{"cache field only",
			`{"type":"stats","data":{"memory":{"cache":77}}}`,
			0, 0, 77, 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := parseStats([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if st.CPUUsageNs != c.cpu || st.MemoryBytes != c.mem || st.MemoryCache != c.cache ||
				st.MemoryLimit != c.limit || st.Pids != c.pids || st.PidsLimit != c.pidsLimit {
				t.Errorf("parseStats = %+v", st)
			}
		})
	}
	for _, bad := range []string{``, `{`, `{"type":"oom","data":{}}`, `{"data":{"cpu":{"usage":{"total":-1}}}}`} {
		if _, err := parseStats([]byte(bad)); err == nil {
			t.Errorf("parseStats(%q) accepted", bad)
		}
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		stderr string
		class  error // nil: no class
	}{
		{`{"level":"error","msg":"container does not exist","time":"x"}`, errdefs.ErrNotFound},
		{"time=\"x\" level=error msg=\"container does not exist\"\n", errdefs.ErrNotFound},
		{"container not running", errdefs.ErrFailedPrecondition},
		{"container not paused", errdefs.ErrFailedPrecondition},
		{"container with id a is not running", errdefs.ErrFailedPrecondition},
		{"open /x: permission denied", nil},
		{"exec: \"sh\": executable file not found in $PATH", nil},
	}
	for _, c := range cases {
		t.Run(c.stderr, func(t *testing.T) {
			err := classify("runc op", c.stderr, errors.New("exit status 1"))
			for _, class := range []error{errdefs.ErrNotFound, errdefs.ErrFailedPrecondition} {
				if errors.Is(err, class) != (class == c.class) {
					t.Errorf("classify = %v; class %v is %v, want %v", err, class, errors.Is(err, class), class == c.class)
				}
			}
			if msg := err.Error(); len(msg) == 0 || strings.ContainsRune(msg, '\n') {
				t.Errorf("message %q: want one non-empty line", msg)
			}
		})
	}
}

func TestParseNetDev(t *testing.T) {
	const table = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     840      10    0    0    0     0          0         0      840      10    0    0    0     0       0          0
  eth0: 1234567     890    0    0    0     0          0         0    76543      21    0    0    0     0       0          0
`
	got := parseNetDev([]byte(table), "eth0")
	if want := (sandbox.NetStats{RxBytes: 1234567, RxPackets: 890, TxBytes: 76543, TxPackets: 21}); *got != want {
		t.Errorf("eth0: %+v, want %+v", *got, want)
	}
	for _, in := range []string{"", "eth0: 1 2 3", "    lo:     840      10    0    0    0     0          0         0      840      10    0    0"} {
		if got := parseNetDev([]byte(in), "eth0"); *got != (sandbox.NetStats{}) {
			t.Errorf("parseNetDev(%q) = %+v, want zeros", in, *got)
		}
	}
}
