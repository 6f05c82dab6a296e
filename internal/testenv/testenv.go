// Package testenv lets tests find the real components they need (root, runc, a built paddock
// binary) and skip with the exact reason when one is missing — or fail, when the component is
// named in PADDOCK_TEST_REQUIRE (as CI does).
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Require skips t with reason unless component is listed in PADDOCK_TEST_REQUIRE
// (comma-separated, or "all"), in which case it fails t.
func Require(t testing.TB, component, reason string) {
	t.Helper()
	for _, c := range strings.Split(os.Getenv("PADDOCK_TEST_REQUIRE"), ",") {
		if c = strings.TrimSpace(c); c == component || c == "all" {
			t.Fatalf("required component %s unavailable: %s", component, reason)
		}
	}
	t.Skip(reason)
}

// NeedRunc skips (or fails) unless the test runs as root and runc is installed.
func NeedRunc(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Require(t, "runc", "sandbox tests need root (runc creates namespaces and cgroups)")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		Require(t, "runc", "runc not in PATH: apt-get install runc")
	}
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
	buildOut  []byte
)

// PaddockBinary builds ./cmd/paddock statically once per test binary and returns its path.
func PaddockBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pdbin")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "paddock")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/paddock")
		cmd.Dir = moduleRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build paddock: %v\n%s", buildErr, buildOut)
	}
	return buildPath
}

// Main runs a package's tests and then removes the paddock binary built for them. Call it
// from TestMain in packages that use PaddockBinary: os.Exit(testenv.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if buildPath != "" {
		_ = os.RemoveAll(filepath.Dir(buildPath))
	}
	return code
}

// TempDir returns a short temporary directory (unix socket paths must stay under 108 bytes)
// removed when t ends.
func TempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// HeavyEnv is the environment variable that turns on heavy tests (see Heavy).
const HeavyEnv = "PADDOCK_TEST_HEAVY"

// Heavy skips t unless PADDOCK_TEST_HEAVY=1. Heavy tests measure rather than prove (scale,
// load, throughput) or take a minute or more for what lighter tests already show; the default
// `go test ./...` stays fast without them, and CI runs them in a step of their own.
func Heavy(t testing.TB) {
	t.Helper()
	if !HeavyOn() {
		t.Skip("heavy test (benchmark-grade or slow): set " + HeavyEnv + "=1 to run it")
	}
}

// HeavyOn reports whether heavy tests run: a test may prove a property lightly by default and
// at full scale under PADDOCK_TEST_HEAVY=1.
func HeavyOn() bool { return os.Getenv(HeavyEnv) == "1" }
