package process_test

import (
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/process"
	"github.com/paddock/paddock/internal/guestproto"
	pb "github.com/paddock/paddock/proto/process"
)

func TestRunAsUser(t *testing.T) {
	t.Parallel()
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody in /etc/passwd: useradd nobody")
	}
	if os.Geteuid() != 0 {
		t.Skip("switching users needs root: run the tests as root")
	}
	e := newEnv(t)
	req := &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "/bin/sh",
		Args: []string{"-c", `id -u; id -g; echo "$HOME $USER $LOGNAME"`}, Cwd: ptr("/tmp")}}
	r := run(e, ctx(t), req, basicAuth("nobody"))
	want := nobody.Uid + "\n" + nobody.Gid + "\n" + nobody.HomeDir + " nobody nobody\n"
	if r.err != nil || r.stdout != want {
		t.Errorf("as nobody: %q, err %v; want %q", r.stdout, r.err, want)
	}
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.settings.Apply(guestproto.InitRequest{EnvVars: map[string]string{"A": "global", "B": "global"}})
	req := &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "env", Envs: map[string]string{"B": "request"}}}
	r := run(e, ctx(t), req, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	got := strings.Split(strings.TrimSpace(r.stdout), "\n")
	sort.Strings(got)
	root, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A=global", "B=request", "HOME=" + root.HomeDir, "LOGNAME=" + root.Username,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "USER=" + root.Username}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("env = %q, want exactly %q (the guest's own env must not leak)", got, want)
	}
}

func TestWorkingDirectory(t *testing.T) {
	t.Parallel()
	root, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	rel, err := filepath.Rel(root.HomeDir, tmp)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, cwd, defaultWorkdir, want string
	}{
		{"absolute", tmp, "", tmp},
		{"relative to home", rel, "", tmp},
		{"tilde", "~", "", root.HomeDir},
		{"sandbox default", "", tmp, tmp},
		{"request beats default", "/", tmp, "/"},
		{"home", "", "", root.HomeDir},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.settings.Apply(guestproto.InitRequest{DefaultWorkdir: tc.defaultWorkdir})
			req := &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "pwd"}}
			if tc.cwd != "" {
				req.Process.Cwd = &tc.cwd
			}
			r := run(e, ctx(t), req, nil)
			if r.err != nil || r.stdout != tc.want+"\n" {
				t.Errorf("pwd = %q, err %v; want %s", r.stdout, r.err, tc.want)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	noExec := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(noExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		req  *pb.StartRequest
		hdr  map[string]string
		code connect.Code
		msg  string
	}{
		{"unknown user", sh("true"), basicAuth("ghost"), connect.CodeUnauthenticated, "invalid username: ghost"},
		{"missing cwd", &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "true", Cwd: ptr("/nope/nope")}}, nil,
			connect.CodeInvalidArgument, "cwd '/nope/nope' does not exist"},
		{"command not found", &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "no-such-binary-xyz"}}, nil,
			connect.CodeNotFound, "no-such-binary-xyz: command not found"},
		{"path not found", &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "/nope/bin"}}, nil,
			connect.CodeNotFound, "/nope/bin: command not found"},
		{"not executable", &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: noExec}}, nil, connect.CodePermissionDenied, ""},
		{"directory", &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "/tmp"}}, nil, connect.CodePermissionDenied, ""},
		{"empty cmd", &pb.StartRequest{Process: &pb.ProcessConfig{}}, nil, connect.CodeInvalidArgument, ""},
		{"nil process", &pb.StartRequest{}, nil, connect.CodeInvalidArgument, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(e, ctx(t), tc.req, tc.hdr)
			if codeOf(r.err) != tc.code || (tc.msg != "" && !strings.HasSuffix(r.err.Error(), ": "+tc.msg)) {
				t.Errorf("err = %v, want %v %q", r.err, tc.code, tc.msg)
			}
			if len(r.events) != 0 {
				t.Errorf("events before the error: %v", r.events)
			}
		})
	}
}

func TestOOMKillIsReported(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	events := filepath.Join(dir, "memory.events")
	if err := os.WriteFile(events, []byte("low 0\noom 1\noom_kill 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	settings := guestenv.New("0")
	svc := process.NewTuned(process.Options{Settings: settings, Reaper: process.NewDirectReaper()},
		[]string{filepath.Join(dir, "missing"), events}, 0)
	e := serve(t, svc, settings)
	cases := []struct {
		name, script, want string
	}{
		{"counter rose", `echo "oom_kill 2" > "$EVENTS"; kill -KILL $$`, guestproto.OOMKilledError},
		{"counter unchanged", `kill -KILL $$`, "signal: killed"},
		{"not sigkill", `echo "oom_kill 3" > "$EVENTS"; kill -TERM $$`, "signal: terminated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := sh(tc.script)
			req.Process.Envs = map[string]string{"EVENTS": events}
			r := run(e, ctx(t), req, nil)
			if r.err != nil || r.end.GetError() != tc.want {
				t.Errorf("end %v, err %v; want error %q", r.end, r.err, tc.want)
			}
		})
	}
}
