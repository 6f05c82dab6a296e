package drivertest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Crash makes the init of the running unit id exit without Stop or Delete, as a crash or a
// kill from outside the driver would.
type Crash func(t *testing.T, d sandbox.Driver, id string)

// reportWait bounds how long the suite waits for an exit report.
const reportWait = 15 * time.Second

// RunExitWatcher checks a driver's sandbox.ExitWatcher: a crash is reported once, with the
// unit's ID, and the unit is then listed as stopped; exits asked for (Stop, Delete), replaced
// watches and watches whose context ended are not reported; units that do not run cannot be
// watched.
func RunExitWatcher(t *testing.T, newDriver Factory, crash Crash) {
	d, img := newDriver(t)
	w, ok := d.(sandbox.ExitWatcher)
	if !ok {
		t.Fatalf("the %s driver does not implement sandbox.ExitWatcher", d.Name())
	}
	ctx := context.Background()
	a, b := created(t, d, img), created(t, d, img)

	wantClass(t, "watch of an unknown unit", w.WatchExit(ctx, RandomID(), func(string) {}), errdefs.ErrNotFound)
	wantClass(t, "watch of a stopped unit", w.WatchExit(ctx, a.ID, func(string) {}), errdefs.ErrFailedPrecondition)

	// Exits nobody should hear of: a stop, a replaced watch, a watch whose context ended.
	var silent atomic.Int32
	quiet := func(string) { silent.Add(1) }
	start(t, d, a.ID)
	if err := w.WatchExit(ctx, a.ID, quiet); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(ctx, a.ID, 0); err != nil {
		t.Fatal(err)
	}
	start(t, d, a.ID)
	if err := w.WatchExit(ctx, a.ID, quiet); err != nil {
		t.Fatal(err)
	}
	reports := make(chan string, 4)
	if err := w.WatchExit(ctx, a.ID, func(id string) { reports <- id }); err != nil {
		t.Fatal(err)
	}
	start(t, d, b.ID)
	cctx, cancel := context.WithCancel(ctx)
	if err := w.WatchExit(cctx, b.ID, quiet); err != nil {
		t.Fatal(err)
	}
	cancel()
	crash(t, d, b.ID)

	crash(t, d, a.ID)
	select {
	case id := <-reports:
		if id != a.ID {
			t.Errorf("exit reported for %q, want %q", id, a.ID)
		}
	case <-time.After(reportWait):
		t.Fatalf("the crash of %s was not reported within %s", a.ID, reportWait)
	}
	wantState(t, d, a.ID, sandbox.StateStopped, "after the crash")
	// The crash of b, the stop of a and the replaced watch came first: had they been
	// reported, they would have been by now.
	if n := silent.Load(); n != 0 {
		t.Errorf("%d exits that were asked for, or no longer watched, were reported", n)
	}
	select {
	case id := <-reports:
		t.Errorf("a second report for %s", id)
	default:
	}
}

// start starts a unit and waits for its guest.
func start(t *testing.T, d sandbox.Driver, id string) {
	t.Helper()
	if err := d.Start(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	ready(t, d, id)
}
