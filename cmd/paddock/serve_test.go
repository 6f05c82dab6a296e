package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/testenv"
)

// serveLeftovers lists what `paddock serve` with this data dir left behind: containers in its
// runtime root, mounts under it (overlay root filesystems, pinned network namespaces) and
// sandbox state directories.
func serveLeftovers(t *testing.T, dataDir string) []string {
	t.Helper()
	var out []string
	if _, err := os.Stat(filepath.Join(dataDir, "runc")); err == nil {
		list, err := exec.Command("runc", "--root", filepath.Join(dataDir, "runc"), "list", "-q").Output()
		if err != nil {
			t.Fatalf("runc list: %v", err)
		}
		for _, id := range strings.Fields(string(list)) {
			out = append(out, "container "+id)
		}
	}
	for _, m := range mountsUnder(t, dataDir) {
		out = append(out, "mount "+m)
	}
	entries, _ := os.ReadDir(filepath.Join(dataDir, "sandboxes"))
	for _, e := range entries {
		out = append(out, "sandbox state "+e.Name())
	}
	return out
}

// mountsUnder lists the mount points below dir, deepest last.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			out = append(out, fields[4])
		}
	}
	return out
}

// sweepServe removes, by ID and path, what a failed test's server left under dataDir (its
// containers, their cgroups and processes, its mounts), so that the temporary directory can go.
func sweepServe(t *testing.T, dataDir string) {
	waitOrphans(t, dataDir)
	root := filepath.Join(dataDir, "runc")
	if list, err := exec.Command("runc", "--root", root, "list", "-q").Output(); err == nil {
		for _, id := range strings.Fields(string(list)) {
			_ = exec.Command("runc", "--root", root, "delete", "--force", id).Run()
		}
	}
	// A container that runc had not finished recording has a cgroup but no state.
	entries, _ := os.ReadDir(filepath.Join(dataDir, "sandboxes"))
	for _, e := range entries {
		for _, cg := range cgroupDirs(t, e.Name()) {
			procs, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
			for _, pid := range strings.Fields(string(procs)) {
				if n, err := strconv.Atoi(pid); err == nil {
					_ = syscall.Kill(n, syscall.SIGKILL)
				}
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for _, cg := range cgroupDirs(t, e.Name()) {
			for os.Remove(cg) != nil && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	mounts := mountsUnder(t, dataDir)
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = syscall.Unmount(mounts[i], syscall.MNT_DETACH)
	}
}

// cgroupDirs lists the cgroup directories of sandbox id in every hierarchy (v1 or v2) this
// host mounts.
func cgroupDirs(t *testing.T, id string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		_, after, ok := strings.Cut(line, " - ")
		fields := strings.Fields(line)
		if !ok || len(fields) < 5 || !(strings.HasPrefix(after, "cgroup ") || strings.HasPrefix(after, "cgroup2 ")) {
			continue
		}
		if dir := filepath.Join(fields[4], "paddock", id); dirExists(dir) {
			out = append(out, dir)
		}
	}
	return out
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// waitOrphans waits (up to 30 s) until no process names dataDir in its command line: runtime
// invocations that a server which exited mid-way left running finish what they started.
func waitOrphans(t *testing.T, dataDir string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		busy := false
		procs, _ := os.ReadDir("/proc")
		for _, p := range procs {
			if cmdline, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline")); err == nil && bytes.Contains(cmdline, []byte(dataDir+"/")) {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serveDir is a data dir for one `paddock serve`, swept and removed when the test ends.
func serveDir(t *testing.T) string {
	t.Helper()
	dir := testenv.TempDir(t)
	t.Cleanup(func() { sweepServe(t, dir) }) // runs before TempDir's removal
	return dir
}

// TestServeStartFailuresLeaveNothing: `paddock serve` with warm pools configured that cannot
// start (its port is taken, a setting is wrong, its templates file is broken) exits 1 with a
// message saying what to change, and leaves no container, mount, network namespace or
// sandbox directory behind. Before serve bound its port first, a taken port left the warm
// pools' sandboxes running.
func TestServeStartFailuresLeaveNothing(t *testing.T) {
	testenv.NeedRunc(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, c := range []struct {
		name  string
		args  []string
		setup func(dataDir string) // before serve starts
		want  []string             // in the message
	}{
		{name: "port taken", args: []string{"--listen", taken.Addr().String()},
			want: []string{taken.Addr().String(), "already in use", "--listen"}},
		{name: "bad setting", args: []string{"--listen", freeAddr(t), "--reap-interval", "1ns"},
			want: []string{"reap-interval"}},
		{name: "broken templates file", args: []string{"--listen", freeAddr(t)},
			setup: func(dir string) { os.WriteFile(filepath.Join(dir, "templates.json"), []byte("[{"), 0o600) },
			want:  []string{"templates"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := serveDir(t)
			if c.setup != nil {
				c.setup(dir)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := append([]string{"serve", "--data-dir", dir, "--pool-size", "2", "--pool-prewarm", "",
				"--egress-dns", testenv.NoDNS}, c.args...)
			cmd := exec.CommandContext(ctx, testenv.PaddockBinary(t), args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("serve: %v, want exit status 1\n%s", err, stderr.String())
			}
			last := lastLine(stderr.String())
			for _, w := range c.want {
				if !strings.Contains(last, w) {
					t.Errorf("message %q does not mention %q", last, w)
				}
			}
			// The server is gone; runtime invocations it left would still finish.
			waitOrphans(t, dir)
			if left := serveLeftovers(t, dir); len(left) > 0 {
				t.Errorf("serve left behind:\n%s", strings.Join(left, "\n"))
			}
		})
	}
}

// TestServeSignalDeletesWarmPool: SIGTERM to a server whose warm pools are full ends it with
// status 0 after deleting the unclaimed warm sandboxes (claimed ones keep running, by design).
func TestServeSignalDeletesWarmPool(t *testing.T) {
	testenv.NeedRunc(t)
	dir := serveDir(t)
	addr := freeAddr(t)
	const key = "e2b_0123456789abcdef0123456789abcdef01234567"
	cmd := exec.Command(testenv.PaddockBinary(t), "serve", "--data-dir", dir, "--listen", addr, "--pool-size", "1",
		"--pool-prewarm", "", "--egress-dns", testenv.NoDNS, "--api-key", key)
	// A file, not a pipe: Wait must not wait for the sandboxes' processes, which may hold
	// inherited descriptors, to close a pipe.
	logs := &logFile{path: filepath.Join(t.TempDir(), "serve.log")}
	f, err := os.Create(logs.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when the server has ended, with waitErr set
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	// Both built-in templates keep one warm sandbox.
	deadline := time.Now().Add(2 * time.Minute)
	for poolReady(addr, key) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("warm pools did not fill:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if left := serveLeftovers(t, dir); len(left) < 2 {
		t.Fatalf("a full pool shows as %v", left)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s", waitErr, logs.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve did not end after SIGTERM:\n%s", logs.String())
	}
	if left := serveLeftovers(t, dir); len(left) > 0 {
		t.Errorf("serve left behind:\n%s", strings.Join(left, "\n"))
	}
}

// poolReady sums paddock_pool_ready over the server's pools (0 while it does not answer).
func poolReady(addr, key string) int {
	req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "paddock_pool_ready{") {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			n += int(v)
		}
	}
	return n
}

// logFile is where a server logs; String reads it.
type logFile struct{ path string }

func (l *logFile) String() string {
	b, _ := os.ReadFile(l.path)
	return string(b)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
