package runtimes_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/engine/enginetest"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/runtimes"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func TestBuiltinRuntimes(t *testing.T) {
	for _, name := range []string{"claude-code", "gemini-cli", "shell"} {
		r, ok := runtimes.Lookup(name)
		if !ok || r.Image == "" || r.Script != name || r.User != "developer" || r.Home != "/home/developer" || r.CPU == "" || r.Memory == "" {
			t.Errorf("%s: %+v", name, r)
		}
		for k := range r.Env {
			if strings.Contains(k, "KEY") || strings.Contains(k, "TOKEN") {
				t.Errorf("%s: a credential in the runtime's environment: %s", name, k)
			}
		}
	}
	if _, ok := runtimes.Lookup("nope"); ok {
		t.Error("unknown runtime found")
	}
}

// TestClaudeCodeImage builds the claude-code image with scripts/build-runtime-image.sh (Node.js
// and the CLI from the npm registry, cached under $PADDOCK_CACHE), checks that no secret of
// the build's environment is in it, imports it without a registry, and runs `claude
// --version` and `node --version` as the developer user in a runc sandbox made from it.
func TestClaudeCodeImage(t *testing.T) {
	testenv.NeedRunc(t)
	if _, err := exec.LookPath("npm"); err != nil {
		testenv.Require(t, "npm", "npm not in PATH: apt-get install npm (the runtime images install their CLI from the npm registry)")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		testenv.Require(t, "busybox", "busybox missing: apt-get install busybox-static")
	}
	rt, _ := runtimes.Lookup("claude-code")
	tarPath := filepath.Join(testenv.TempDir(t), "claude-code.tar")
	canary := canarySecret(t)
	build := exec.Command("bash", filepath.Join(moduleRoot(), "scripts", "build-runtime-image.sh"), rt.Script, tarPath)
	// A model key and an npm token in the builder's environment must not reach the image.
	build.Env = append(os.Environ(), "ANTHROPIC_API_KEY="+canary, "NPM_TOKEN="+canary)
	out, err := build.CombinedOutput()
	if err != nil {
		if regexp.MustCompile(`ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network`).Match(out) {
			testenv.Require(t, "npm", "the npm registry is unreachable: "+lastLine(out))
		}
		t.Fatalf("build: %v\n%s", err, out)
	}
	checkTar(t, tarPath, canary)

	eng := enginetest.Runc(t)
	ctx := context.Background()
	f, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	begin := time.Now()
	if _, err := eng.ImportImage(ctx, rt.Image, f); err != nil {
		t.Fatalf("import: %v", err)
	}
	t.Logf("import of %s: %s", tarPath, time.Since(begin).Round(time.Millisecond))
	sb, err := eng.Create(ctx, sandbox.Spec{Image: rt.Image, Env: rt.Env}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"claude", "--version"}, `^\d+\.\d+\.\d+ \(Claude Code\)\n$`},
		{[]string{"node", "--version"}, `^v22\.\d+\.\d+\n$`},
		{[]string{"sh", "-c", "id -un; echo $HOME; touch ~/w && echo writable"}, "^developer\n/home/developer\nwritable\n$"},
	} {
		res, err := eng.Exec(ctx, sb.ID, manager.ExecRequest{Command: c.args, User: rt.User, Timeout: time.Minute})
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if res.ExitCode != 0 || !regexp.MustCompile(c.want).Match(res.Stdout) {
			t.Errorf("%v: exit %d\nstdout: %q\nstderr: %s", c.args, res.ExitCode, res.Stdout, res.Stderr)
		}
	}
}

// checkTar reads the image's tar: the files that matter are there, the home belongs to the
// developer, and neither the canary secret nor an npm configuration is anywhere in it.
func checkTar(t *testing.T, path, canary string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]*tar.Header{}
	tr := tar.NewReader(f)
	buf := make([]byte, 1<<20)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		seen[strings.TrimSuffix(name, "/")] = hdr
		if base := filepath.Base(name); base == ".npmrc" || base == ".netrc" || strings.HasPrefix(name, "root/.") {
			t.Errorf("image holds %s", name)
		}
		if hdr.Typeflag == tar.TypeReg && containsReader(t, tr, []byte(canary), buf) {
			t.Errorf("image file %s holds the builder's secret", name)
		}
	}
	for _, want := range []string{"usr/local/bin/node", "usr/local/bin/claude", "usr/bin/bash", "usr/bin/sh", "etc/passwd", "tmp"} {
		if seen[want] == nil {
			t.Errorf("image lacks %s", want)
		}
	}
	if h := seen["home/developer"]; h == nil || h.Uid != 1000 || h.Gid != 1000 {
		t.Errorf("home/developer: %+v, want owned by 1000:1000", h)
	}
}

// containsReader reports whether r holds needle, reading it in chunks (some files are
// hundreds of MB).
func containsReader(t *testing.T, r io.Reader, needle, buf []byte) bool {
	t.Helper()
	carry := 0
	for {
		n, err := r.Read(buf[carry:])
		if bytes.Contains(buf[:carry+n], needle) {
			return true
		}
		if err == io.EOF {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		keep := min(len(needle)-1, carry+n)
		copy(buf, buf[carry+n-keep:carry+n])
		carry = keep
	}
}

func canarySecret(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "sk-ant-canary-" + hex.EncodeToString(b)
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
