package engine

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"testing"

	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

// BenchmarkCreateCold measures create to guest-ready with no pool.
func BenchmarkCreateCold(b *testing.B) {
	eng, _ := newTestEngine(b)
	ctx := context.Background()
	for b.Loop() {
		sb, err := eng.Create(ctx, sandbox.Spec{}, "")
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = eng.Delete(ctx, sb.ID)
		b.StartTimer()
	}
}

// BenchmarkPoolClaimExec measures claiming a warm sandbox and running `true` in it.
func BenchmarkPoolClaimExec(b *testing.B) {
	eng, _ := newTestEngine(b, manager.PoolConfig{Image: "base", Profile: "moderate", Size: 4})
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		waitPoolReadyB(b, eng, 1)
		b.StartTimer()
		sb, err := eng.Create(ctx, sandbox.Spec{}, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := eng.Exec(ctx, sb.ID, manager.ExecRequest{Command: []string{"true"}}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = eng.Delete(ctx, sb.ID)
		b.StartTimer()
	}
}

// BenchmarkExecTrue measures one exec round trip in a running sandbox.
func BenchmarkExecTrue(b *testing.B) {
	eng, _ := newTestEngine(b)
	ctx := context.Background()
	sb := mustCreate(b, eng, sandbox.Spec{})
	for b.Loop() {
		res, err := eng.Exec(ctx, sb.ID, manager.ExecRequest{Command: []string{"true"}})
		if err != nil || res.ExitCode != 0 {
			b.Fatal(err, res)
		}
	}
}

// BenchmarkFileWriteRead1MiB measures writing then reading back 1 MiB.
func BenchmarkFileWriteRead1MiB(b *testing.B) {
	eng, _ := newTestEngine(b)
	ctx := context.Background()
	sb := mustCreate(b, eng, sandbox.Spec{})
	data := bytes.Repeat([]byte("paddock!"), 1<<17)
	b.SetBytes(int64(2 * len(data)))
	for b.Loop() {
		if err := eng.WriteFile(ctx, sb.ID, "/tmp/bench", "", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		rc, err := eng.ReadFile(ctx, sb.ID, "/tmp/bench", "")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, rc)
		rc.Close()
		if n != int64(len(data)) {
			b.Fatalf("read %d bytes", n)
		}
	}
}

// BenchmarkOneShotRun measures `paddock run -- true` as a user runs it.
func BenchmarkOneShotRun(b *testing.B) {
	testenv.NeedRunc(b)
	bin := testenv.PaddockBinary(b)
	dir := testenv.TempDir(b)
	for b.Loop() {
		out, err := exec.Command(bin, "run", "--data-dir", dir, "--", "true").CombinedOutput()
		if err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}

func waitPoolReadyB(b *testing.B, eng *Engine, n int) {
	b.Helper()
	for i := 0; i < 30000; i++ {
		if st := eng.PoolStats(); len(st) > 0 && st[0].Ready >= n {
			return
		}
		sleepMs(1)
	}
	b.Fatal("pool did not refill")
}
