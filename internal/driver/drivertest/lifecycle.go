package drivertest

import (
	"context"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/sandbox"
)

// testLifecycle walks one unit through create, start, stats, pause, stop, restart and
// delete, checking List and the guest at each step.
func testLifecycle(t *testing.T, newDriver Factory) {
	d, img := newDriver(t)
	ctx := context.Background()
	spec := created(t, d, img)
	in, ok := find(t, d, spec.ID)
	if !ok || in.State != sandbox.StateStopped || in.Labels["suite"] != "drivertest" {
		t.Fatalf("after create: %+v (found %v), want stopped with the spec's labels", in, ok)
	}

	if err := d.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	ready(t, d, spec.ID)
	wantState(t, d, spec.ID, sandbox.StateRunning, "after start")
	st, err := d.Stats(ctx, spec.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantPids := uint64(spec.Resources.Pids)
	if u, ok := d.(PidsUnenforced); ok && u.PidsUnenforced() != "" {
		wantPids = 0
	}
	if st.MemoryLimit != uint64(spec.Resources.MemoryMB)<<20 || st.PidsLimit != wantPids {
		t.Errorf("stats = %+v; want memory limit %d MiB, pids limit %d", st, spec.Resources.MemoryMB, spec.Resources.Pids)
	}

	if _, ok := d.(sandbox.Pauser); !ok {
		t.Logf("the %s driver does not implement sandbox.Pauser: pause and resume not checked", d.Name())
	}
	if p, ok := d.(sandbox.Pauser); ok {
		if err := p.Pause(ctx, spec.ID); err != nil {
			t.Fatal(err)
		}
		wantState(t, d, spec.ID, sandbox.StatePaused, "after pause")
		if err := p.Resume(ctx, spec.ID); err != nil {
			t.Fatal(err)
		}
		wantState(t, d, spec.ID, sandbox.StateRunning, "after resume")
		ready(t, d, spec.ID)
	}

	if err := d.Stop(ctx, spec.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(ctx, spec.ID, time.Second); err != nil {
		t.Errorf("second stop: %v", err)
	}
	wantState(t, d, spec.ID, sandbox.StateStopped, "after stop")

	if err := d.Start(ctx, spec.ID); err != nil {
		t.Fatalf("restart: %v", err)
	}
	ready(t, d, spec.ID)
	wantState(t, d, spec.ID, sandbox.StateRunning, "after restart")

	if err := d.Delete(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, spec.ID); err != nil {
		t.Errorf("second delete: %v", err)
	}
	list, err := d.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("after delete, List = %+v, want empty", list)
	}
}
