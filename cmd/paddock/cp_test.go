package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/testenv"
)

// TestCpStreams copies a 100 MB file into a sandbox and back (into a directory, under its
// own name), a /proc file to stdout and stdin into a sandbox. The file is past the JSON
// file API's limit and the CLI's peak RSS stays far below its size: the bytes stream.
func TestCpStreams(t *testing.T) {
	testenv.NeedRunc(t)
	dir := testenv.TempDir(t)
	addr := freeAddr(t)
	serveProcess(t, dir, addr)
	env := append(os.Environ(), "PADDOCK_HOST=http://"+addr, "PADDOCK_DATA_DIR="+dir)
	// paddock runs the CLI and returns its stdout and peak RSS in MiB, as its VmHWM said
	// last while it ran (rusage would report this test's own RSS: the child starts as a vfork).
	paddock := func(stdin []byte, args ...string) (string, int64) {
		t.Helper()
		cmd := exec.Command(testenv.PaddockBinary(t), args...)
		cmd.Env, cmd.Stdin = env, bytes.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		peak := make(chan int64, 1)
		go func() {
			var kb int64
			for {
				kb = max(kb, hwm(cmd.Process.Pid))
				select {
				case <-done:
					peak <- kb
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		err := cmd.Wait()
		close(done)
		if err != nil {
			t.Fatalf("paddock %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
		}
		return out.String(), <-peak >> 10
	}
	paddock(nil, "sandbox", "create", "box", "--network", "none")
	big := make([]byte, 100<<20)
	_, _ = rand.Read(big)
	local := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(local, big, 0o644); err != nil {
		t.Fatal(err)
	}
	_, upRSS := paddock(nil, "cp", local, "box:/tmp/big.bin")
	back := filepath.Join(dir, "back")
	if err := os.Mkdir(back, 0o755); err != nil {
		t.Fatal(err)
	}
	_, downRSS := paddock(nil, "cp", "box:/tmp/big.bin", back)
	got, err := os.ReadFile(filepath.Join(back, "big.bin"))
	if err != nil || sha256.Sum256(got) != sha256.Sum256(big) {
		t.Fatalf("round trip of 100 MiB: %d bytes back, %v", len(got), err)
	}
	// The binary's own footprint (its pages, its packages' init) is no buffering: compare with
	// a command that moves no data.
	_, baseRSS := paddock(nil, "--version")
	t.Logf("cp of 100 MiB: peak RSS of the CLI %d MiB up, %d MiB down; %d MiB for paddock --version", upRSS, downRSS, baseRSS)
	if upRSS-baseRSS > 32 || downRSS-baseRSS > 32 {
		t.Errorf("the CLI's peak RSS was %d MiB up and %d MiB down for a 100 MiB file, %d MiB for paddock --version; want less than 32 MiB more (streamed)",
			upRSS, downRSS, baseRSS)
	}
	if out, _ := paddock(nil, "cp", "box:/proc/self/status", "-"); !strings.Contains(out, "VmRSS") {
		t.Errorf("cp of a /proc file to stdout: %.200q", out)
	}
	paddock([]byte("from stdin\n"), "cp", "-", "box:/tmp/in.txt")
	if out, _ := paddock(nil, "cp", "box:/tmp/in.txt", "-"); out != "from stdin\n" {
		t.Errorf("stdin round trip: %q", out)
	}
}

// hwm is a process's peak RSS in KiB (VmHWM), 0 when it is gone.
func hwm(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}
