package manager_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// images resolves "base" to an empty image; processes of the fake driver run on the host.
type images struct{}

func (images) Resolve(_ context.Context, ref string) (*sandbox.Image, error) {
	if ref == "" || ref == "base" {
		return &sandbox.Image{Ref: "base"}, nil
	}
	return nil, errdefs.NotFound("image %q not found", ref)
}

func newManager(t *testing.T, pools ...manager.PoolConfig) (*manager.Manager, *fake.Driver, sandbox.Store) {
	t.Helper()
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: store, Images: images{},
		Pools: pools, Reconcile: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m, drv, store
}

func TestCreateBadInput(t *testing.T) {
	m, drv, _ := newManager(t)
	ctx := context.Background()
	if _, err := m.Create(ctx, sandbox.Spec{Name: "taken"}, ""); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		spec sandbox.Spec
		want error
		msg  string
	}{
		{"taken name", sandbox.Spec{Name: "taken"}, errdefs.ErrAlreadyExists, `"taken" is taken`},
		{"bad name", sandbox.Spec{Name: "Bad_Name"}, errdefs.ErrInvalidArgument, "invalid name"},
		{"long name", sandbox.Spec{Name: strings.Repeat("a", 64)}, errdefs.ErrInvalidArgument, "invalid name"},
		{"unknown profile", sandbox.Spec{Profile: "yolo"}, errdefs.ErrInvalidArgument, "yolo"},
		{"negative memory", sandbox.Spec{MemoryMB: -1}, errdefs.ErrInvalidArgument, "memory"},
		{"absurd memory", sandbox.Spec{MemoryMB: 1 << 40}, errdefs.ErrInvalidArgument, "memory"},
		{"negative vcpus", sandbox.Spec{VCPUs: -2}, errdefs.ErrInvalidArgument, "vcpus"},
		{"absurd pids", sandbox.Spec{Pids: 1 << 40}, errdefs.ErrInvalidArgument, "pids"},
		{"negative ttl", sandbox.Spec{TTL: -time.Second}, errdefs.ErrInvalidArgument, "ttl"},
		{"unknown image", sandbox.Spec{Image: "nope:1"}, errdefs.ErrNotFound, "nope:1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := m.Create(ctx, c.spec, "")
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("err = %v, want %v mentioning %q", err, c.want, c.msg)
			}
		})
	}
	// Nothing half-created: only the first sandbox exists.
	if units, _ := drv.List(ctx); len(units) != 1 {
		t.Errorf("driver has %d units after failed creates, want 1", len(units))
	}
}

func TestLifecycleAndExec(t *testing.T) {
	m, _, _ := newManager(t)
	ctx := context.Background()
	sb, err := m.Create(ctx, sandbox.Spec{Name: "life", Env: map[string]string{"GREETING": "hi"}}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Exec(ctx, "life", manager.ExecRequest{Shell: "echo $GREETING; echo err >&2; exit 3"})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "hi\n" || string(res.Stderr) != "err\n" || res.ExitCode != 3 {
		t.Errorf("exec = %q %q %d", res.Stdout, res.Stderr, res.ExitCode)
	}
	res, err = m.Exec(ctx, sb.ID, manager.ExecRequest{Command: []string{"cat"}, Stdin: []byte("piped")})
	if err != nil || string(res.Stdout) != "piped" {
		t.Errorf("stdin: %q %v", res.Stdout, err)
	}
	res, err = m.Exec(ctx, sb.ID, manager.ExecRequest{Command: []string{"no-such-cmd-xyz"}})
	if err != nil || res.ExitCode != 127 || !strings.Contains(string(res.Stderr), "command not found") {
		t.Errorf("missing command: %+v %v", res, err)
	}
	res, err = m.Exec(ctx, sb.ID, manager.ExecRequest{Shell: "sleep 5", Timeout: 200 * time.Millisecond})
	if err != nil || !res.TimedOut || res.ExitCode != 124 {
		t.Errorf("timeout: %+v %v", res, err)
	}
	if _, err := m.Exec(ctx, sb.ID, manager.ExecRequest{}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("empty command: %v", err)
	}
	if _, err := m.Stop(ctx, "life"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Exec(ctx, "life", manager.ExecRequest{Shell: "true"}); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("exec on stopped: %v", err)
	}
	if _, err := m.Start(ctx, "life"); err != nil {
		t.Fatal(err)
	}
	if res, err := m.Exec(ctx, "life", manager.ExecRequest{Shell: "echo $GREETING"}); err != nil || string(res.Stdout) != "hi\n" {
		t.Errorf("after restart: %q %v", res.Stdout, err)
	}
	if _, err := m.Pause(ctx, "life"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Pause(ctx, "life"); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("double pause: %v", err)
	}
	if _, err := m.Resume(ctx, "life"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "life"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "life"); !errdefs.IsNotFound(err) {
		t.Errorf("get after delete: %v", err)
	}
}

func TestFilesThroughGuest(t *testing.T) {
	m, _, _ := newManager(t)
	ctx := context.Background()
	sb, err := m.Create(ctx, sandbox.Spec{Name: "files"}, "")
	if err != nil {
		t.Fatal(err)
	}
	path := testenv.TempDir(t) + "/sub/f.txt"
	if err := m.WriteFile(ctx, sb.ID, path, "", bytes.NewReader([]byte("content"))); err != nil {
		t.Fatal(err)
	}
	rc, err := m.ReadFile(ctx, sb.ID, path, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "content" {
		t.Errorf("read %q", b)
	}
	if e, err := m.StatFile(ctx, sb.ID, path, ""); err != nil || e.GetSize() != 7 {
		t.Errorf("stat: %v %v", e, err)
	}
	if err := m.DeleteFile(ctx, sb.ID, path, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := m.StatFile(ctx, sb.ID, path, ""); !errdefs.IsNotFound(err) {
		t.Errorf("stat after delete: %v", err)
	}
}

func TestPoolNeverReusesAndRefills(t *testing.T) {
	m, _, _ := newManager(t, manager.PoolConfig{Image: "base", Profile: "moderate", Size: 2})
	ctx := context.Background()
	waitReady(t, m, 2)
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		sb, err := m.Create(ctx, sandbox.Spec{}, "")
		if err != nil {
			t.Fatal(err)
		}
		if seen[sb.ID] {
			t.Fatalf("sandbox %s handed out twice", sb.ID)
		}
		seen[sb.ID] = true
		if err := m.Delete(ctx, sb.ID); err != nil {
			t.Fatal(err)
		}
	}
	waitReady(t, m, 2)
	if st := m.PoolStats(); st[0].Claims+st[0].Misses != 5 {
		t.Errorf("pool stats %+v, want 5 claims+misses", st)
	}
}

func TestReconcileDeletesUnrecordedUnits(t *testing.T) {
	m, drv, store := newManager(t)
	ctx := context.Background()
	sb, err := m.Create(ctx, sandbox.Spec{Name: "kept"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := drv.Create(ctx, sandbox.InstanceSpec{ID: "iorphan"}); err != nil {
		t.Fatal(err)
	}
	m2, err := manager.New(ctx, manager.Config{Driver: drv, Store: store, Images: images{}, Reconcile: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close(ctx)
	units, _ := drv.List(ctx)
	if len(units) != 1 || units[0].ID != sb.ID {
		t.Errorf("units after reconcile = %+v, want only %s", units, sb.ID)
	}
	if res, err := m2.Exec(ctx, "kept", manager.ExecRequest{Shell: "echo adopted"}); err != nil || string(res.Stdout) != "adopted\n" {
		t.Errorf("adopted exec: %v %v", res, err)
	}
}

func waitReady(t *testing.T, m *manager.Manager, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if st := m.PoolStats(); len(st) == 1 && st[0].Ready >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("pool not ready: %+v", m.PoolStats())
}
