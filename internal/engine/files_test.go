package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

func readAll(t *testing.T, eng *Engine, id, path string) ([]byte, error) {
	t.Helper()
	rc, err := eng.ReadFile(context.Background(), id, path, "")
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestFilesRoundTripBinary(t *testing.T) {
	eng, _ := newTestEngine(t)
	sb := mustCreate(t, eng, sandbox.Spec{Name: "files"})
	data := make([]byte, 3<<20+17)
	_, _ = rand.Read(data)
	if err := eng.WriteFile(context.Background(), sb.ID, "/workspace/d/blob.bin", "", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, eng, sb.ID, "/workspace/d/blob.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, differ from the %d written", len(got), len(data))
	}
	if _, err := readAll(t, eng, sb.ID, "/workspace/missing"); !errdefs.IsNotFound(err) {
		t.Errorf("missing file: err = %v, want not found", err)
	}
}

// TestFilesPathTricksStayInSandbox plants a canary on the host and aims every path trick at
// it from inside the sandbox: none may read or change it.
func TestFilesPathTricksStayInSandbox(t *testing.T) {
	eng, _ := newTestEngine(t)
	canaryDir := testenv.TempDir(t)
	canary := filepath.Join(canaryDir, "secret")
	if err := os.WriteFile(canary, []byte("host secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	sb := mustCreate(t, eng, sandbox.Spec{Name: "tricks"})
	shOK(t, eng, sb.ID, "ln -s / /tmp/root && ln -s "+canary+" /tmp/canary && ln -s /proc/1/root /tmp/p1 && ln -s "+canaryDir+" /tmp/cdir")
	ctx := context.Background()
	for _, p := range []string{"../../../../" + canary, canary, "/tmp/canary", "/tmp/root" + canary, "/tmp/p1" + canary,
		"/proc/1/root" + canary, "/tmp/cdir/secret"} {
		if got, err := readAll(t, eng, sb.ID, p); err == nil && bytes.Contains(got, []byte("host secret")) {
			t.Errorf("read %s returned the host canary", p)
		}
		_ = eng.WriteFile(ctx, sb.ID, p, "", bytes.NewReader([]byte("pwned")))
	}
	// A symlink swapped between check and use: race writes against a flipping link.
	done := make(chan struct{})
	go func() {
		defer close(done)
		sh(t, eng, sb.ID, "for i in $(seq 1 200); do ln -sfn "+canaryDir+" /tmp/flip; ln -sfn /tmp /tmp/flip; done")
	}()
	for i := 0; i < 50; i++ {
		_ = eng.WriteFile(ctx, sb.ID, "/tmp/flip/secret", "", bytes.NewReader([]byte("pwned")))
	}
	<-done
	got, err := os.ReadFile(canary)
	if err != nil || string(got) != "host secret" {
		t.Fatalf("host canary changed: %q, %v", got, err)
	}
	entries, _ := os.ReadDir(canaryDir)
	if len(entries) != 1 {
		t.Errorf("host canary dir gained files: %v", entries)
	}
}
