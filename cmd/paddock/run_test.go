package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/testenv"
)

// paddockRun runs the built binary's `run` and returns stdout, stderr and the exit code.
func paddockRun(t *testing.T, dataDir, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testenv.PaddockBinary(t), append([]string{"run", "--data-dir", dataDir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func TestRunExitCodesAndStreams(t *testing.T) {
	testenv.NeedRunc(t)
	dir := testenv.TempDir(t)
	cases := []struct {
		name       string
		stdin      string
		args       []string
		wantOut    string
		wantErrSub string
		wantCode   int
	}{
		{"exit code", "", []string{"--", "sh", "-c", "echo out; echo err >&2; exit 3"}, "out\n", "err", 3},
		{"stdin forwarded", "hello stdin", []string{"--", "cat"}, "hello stdin", "", 0},
		{"env and workdir", "", []string{"-e", "A=1", "-w", "/tmp", "--", "sh", "-c", "echo $A $(pwd)"}, "1 /tmp\n", "", 0},
		{"user", "", []string{"-u", "user", "--", "id", "-un"}, "user\n", "", 0},
		{"command not found", "", []string{"--", "no-such-command"}, "", "no-such-command: command not found", 127},
		{"killed by signal", "", []string{"--", "sh", "-c", "kill -TERM $$"}, "", "killed by signal 15", 143},
		{"out of memory", "", []string{"--memory", "32", "--", "tail", "/dev/zero"}, "", "out of memory", 137},
		{"timeout", "", []string{"--timeout", "300ms", "--", "sleep", "10"}, "", "timed out", 124},
		{"unknown profile", "", []string{"--profile", "yolo", "--", "true"}, "", `unknown profile "yolo"`, 1},
		{"bad env", "", []string{"-e", "NOEQUALS", "--", "true"}, "", "KEY=VALUE", 1},
		{"absurd memory", "", []string{"--memory", "1", "--", "true"}, "", "memory_mb 1 is out of range", 1},
		{"disk full", "", []string{"--disk", "32", "--", "dd", "if=/dev/zero", "of=/workspace/f", "bs=1M", "count=64"}, "", "No space left on device", 1},
		{"absurd disk", "", []string{"--disk", "1", "--", "true"}, "", "disk_mb 1 is out of range", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := paddockRun(t, dir, c.stdin, c.args...)
			if code != c.wantCode || out != c.wantOut || !strings.Contains(errOut, c.wantErrSub) {
				t.Errorf("got code %d stdout %q stderr %q; want %d %q containing %q", code, out, errOut, c.wantCode, c.wantOut, c.wantErrSub)
			}
		})
	}
}
