package runc

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/sandbox"
)

func TestSpecRlimits(t *testing.T) {
	in := []sandbox.Rlimit{
		{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1 << 40},
		{Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
		{Type: "RLIMIT_MEMLOCK", Soft: 1 << 62, Hard: 1 << 62},
	}
	var ownMemlock, ownNofile unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &ownMemlock); err != nil {
		t.Fatal(err)
	}
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &ownNofile); err != nil {
		t.Fatal(err)
	}
	for _, canRaise := range []bool{true, false} {
		saved := canRaiseRlimits
		canRaiseRlimits = func() bool { return canRaise }
		got := rlimits(in)
		canRaiseRlimits = saved
		if len(got) != 3 || got[0].Type != "RLIMIT_NOFILE" || got[1].Hard != 0 {
			t.Fatalf("rlimits = %+v", got)
		}
		wantNofile, wantMemlock := nrOpen(), uint64(1<<62)
		if !canRaise {
			wantNofile, wantMemlock = min(wantNofile, ownNofile.Max), min(wantMemlock, ownMemlock.Max)
		}
		if got[0].Hard != wantNofile || got[0].Soft != min(1024, wantNofile) {
			t.Errorf("canRaise=%v: NOFILE %+v, want hard %d (fs.nr_open or this process's)", canRaise, got[0], wantNofile)
		}
		if got[2].Hard != wantMemlock || got[2].Soft != wantMemlock {
			t.Errorf("canRaise=%v: MEMLOCK %+v, want %d", canRaise, got[2], wantMemlock)
		}
	}
}
