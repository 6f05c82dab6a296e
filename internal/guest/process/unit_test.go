package process

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	pb "github.com/paddock/paddock/proto/process"
)

func TestEndEvent(t *testing.T) {
	cases := []struct {
		name   string
		ws     unix.WaitStatus
		code   int32
		exited bool
		status string
		err    string
	}{
		{"exit 0", 0, 0, true, "exit status 0", ""},
		{"exit 1", 1 << 8, 1, true, "exit status 1", "exit status 1"},
		{"exit 255", 255 << 8, 255, true, "exit status 255", "exit status 255"},
		{"sigkill", unix.WaitStatus(syscall.SIGKILL), -1, false, "signal: killed", "signal: killed"},
		{"sigsegv core", unix.WaitStatus(syscall.SIGSEGV) | 0x80, -1, false,
			"signal: segmentation fault (core dumped)", "signal: segmentation fault (core dumped)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := endEvent(tc.ws)
			if e.GetExitCode() != tc.code || e.GetExited() != tc.exited || e.GetStatus() != tc.status ||
				e.GetError() != tc.err || (e.Error != nil) != (tc.err != "") {
				t.Errorf("endEvent(%#x) = %v", int(tc.ws), e)
			}
		})
	}
}

func TestOOMKills(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v2 := write("memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\noom_group_kill 0\n")
	v1 := write("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n")
	bad := write("garbage", "oom_kill lots\n")
	missing := filepath.Join(dir, "missing")
	cases := []struct {
		name  string
		files []string
		n     uint64
		ok    bool
	}{
		{"v2", []string{v2, v1}, 2, true},
		{"v1 when v2 is missing", []string{missing, v1}, 7, true},
		{"unparsable", []string{bad}, 0, false},
		{"none", []string{missing}, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if n, ok := oomKills(tc.files); n != tc.n || ok != tc.ok {
				t.Errorf("oomKills = %d, %v; want %d, %v", n, ok, tc.n, tc.ok)
			}
		})
	}
}

func TestEnviron(t *testing.T) {
	u := &guestenv.User{Name: "alice", Home: "/home/alice"}
	got := Environ(u, map[string]string{"PATH": "/opt/bin", "X": "1", "BAD=KEY": "v", "": "v"}, map[string]string{"X": "2", "NUL": "a\x00b"})
	want := []string{"HOME=/home/alice", "LOGNAME=alice", "PATH=/opt/bin", "USER=alice", "X=2"}
	if !slices.Equal(got, want) {
		t.Errorf("Environ = %q, want %q", got, want)
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"tool": 0o755, "data": 0o644} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=/nonexistent:" + dir}
	cases := []struct {
		name, cmd, want string
		class           error
	}{
		{"in PATH", "tool", filepath.Join(dir, "tool"), nil},
		{"absolute", filepath.Join(dir, "tool"), filepath.Join(dir, "tool"), nil},
		{"relative to cwd", "./tool", filepath.Join(dir, "tool"), nil},
		{"missing", "nope", "", errdefs.ErrNotFound},
		{"not executable in PATH", "data", "", errdefs.ErrPermissionDenied},
		{"not executable path", "./data", "", errdefs.ErrPermissionDenied},
		{"through a file", "./tool/x", "", errdefs.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LookPath(tc.cmd, dir, env)
			if tc.class == nil && (err != nil || got != tc.want) {
				t.Errorf("LookPath(%q) = %q, %v; want %q", tc.cmd, got, err, tc.want)
			}
			if tc.class != nil && !errors.Is(err, tc.class) {
				t.Errorf("LookPath(%q) err = %v, want class %v", tc.cmd, err, tc.class)
			}
		})
	}
}

func dataEvent(i int) *pb.ProcessEvent {
	return &pb.ProcessEvent{Event: &pb.ProcessEvent_Data{Data: stdoutData([]byte(strconv.Itoa(i)))}}
}

func TestBroadcastDropsSlowAndGoneSubscribers(t *testing.T) {
	p := newProc(&pb.ProcessConfig{}, nil, &procIO{})
	reader, stalled, gone := newSub(time.Hour), newSub(10*time.Millisecond), newSub(time.Hour)
	close(gone.gone)
	for _, s := range []*sub{reader, stalled, gone} {
		if p.subscribe(s) != nil {
			t.Fatal("running process returned an end event")
		}
	}
	got := make(chan []*pb.ProcessEvent)
	go func() {
		var evs []*pb.ProcessEvent
		for ev := range reader.ch {
			evs = append(evs, ev)
			if ev.GetEnd() != nil {
				break
			}
		}
		got <- evs
	}()
	n := 3 * subBuffer // more than the stalled subscriber's queue
	for i := range n {
		p.broadcast(dataEvent(i))
	}
	end := &pb.ProcessEvent{Event: &pb.ProcessEvent_End{End: endEvent(0)}}
	p.finish(end)

	evs := <-got
	if len(evs) != n+1 || evs[n] != end {
		t.Fatalf("reader got %d events, want %d and the end", len(evs), n)
	}
	for i, ev := range evs[:n] {
		if string(ev.GetData().GetStdout()) != strconv.Itoa(i) {
			t.Fatalf("event %d is %v: out of order", i, ev)
		}
	}
	for name, s := range map[string]*sub{"stalled": stalled, "gone": gone} {
		select {
		case <-s.dropped:
		default:
			t.Errorf("%s subscriber was not dropped", name)
		}
	}
	if p.subscribe(newSub(time.Hour)) != end {
		t.Error("a subscriber arriving after the end did not get the retained end")
	}
}

// FuzzEnvironAndLookPath feeds request-controlled strings (env names and values, cmd) to the
// helpers that shape a process: no panic, and only well-formed environment entries.
func FuzzEnvironAndLookPath(f *testing.F) {
	f.Add("A", "1", "sh")
	f.Add("=", "\x00", "../../bin/sh")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, k, v, cmd string) {
		env := Environ(&guestenv.User{Name: "u", Home: "/"}, nil, map[string]string{k: v})
		for _, kv := range env {
			name, _, ok := strings.Cut(kv, "=")
			if !ok || name == "" || strings.ContainsRune(kv, 0) {
				t.Fatalf("malformed env entry %q", kv)
			}
		}
		_, _ = LookPath(cmd, "/", env)
	})
}
