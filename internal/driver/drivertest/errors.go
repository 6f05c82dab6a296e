package drivertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// testWrongState checks that operations a unit's state forbids are failed preconditions
// (unreachable, for Dial) and leave the unit as it was.
func testWrongState(t *testing.T, newDriver Factory) {
	d, img := newDriver(t)
	ctx := context.Background()
	spec := created(t, d, img)
	id := spec.ID
	pauser, canPause := d.(sandbox.Pauser)

	checkStopped := func(when string) {
		t.Helper()
		_, err := d.Stats(ctx, id)
		wantClass(t, when+": stats", err, errdefs.ErrFailedPrecondition)
		if conn, err := d.Dial(ctx, id); err == nil {
			conn.Close()
			t.Errorf("%s: dial succeeded", when)
		} else if !errors.Is(err, errdefs.ErrUnavailable) && !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("%s: dial: %v, want unavailable or not found class", when, err)
		}
		if canPause {
			wantClass(t, when+": pause", pauser.Pause(ctx, id), errdefs.ErrFailedPrecondition)
			wantClass(t, when+": resume", pauser.Resume(ctx, id), errdefs.ErrFailedPrecondition)
		}
		wantState(t, d, id, sandbox.StateStopped, when)
	}
	checkStopped("created")

	if err := d.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	ready(t, d, id)
	wantClass(t, "start of a running unit", d.Start(ctx, id), errdefs.ErrFailedPrecondition)
	ready(t, d, id)
	if canPause {
		wantClass(t, "resume of a running unit", pauser.Resume(ctx, id), errdefs.ErrFailedPrecondition)
		if err := pauser.Pause(ctx, id); err != nil {
			t.Fatal(err)
		}
		wantClass(t, "pause of a paused unit", pauser.Pause(ctx, id), errdefs.ErrFailedPrecondition)
		wantClass(t, "start of a paused unit", d.Start(ctx, id), errdefs.ErrFailedPrecondition)
		wantState(t, d, id, sandbox.StatePaused, "after refused start")
	}
	// A paused unit must stop too, with or without grace.
	if err := d.Stop(ctx, id, time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	checkStopped("stopped")

	if canPause {
		if err := d.Start(ctx, id); err != nil {
			t.Fatal(err)
		}
		ready(t, d, id)
		if err := pauser.Pause(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := d.Delete(ctx, id); err != nil {
			t.Fatalf("delete of a paused unit: %v", err)
		}
		if _, ok := find(t, d, id); ok {
			t.Error("paused unit still listed after delete")
		}
	}
}

// testNotFound checks the not-found contract on an ID the driver never saw.
func testNotFound(t *testing.T, newDriver Factory) {
	d, _ := newDriver(t)
	ctx := context.Background()
	id := RandomID()
	errs := map[string]error{
		"start": d.Start(ctx, id),
		"stop":  d.Stop(ctx, id, 0),
		"stats": func() error { _, err := d.Stats(ctx, id); return err }(),
		"dial":  func() error { _, err := d.Dial(ctx, id); return err }(),
	}
	if p, ok := d.(sandbox.Pauser); ok {
		errs["pause"] = p.Pause(ctx, id)
		errs["resume"] = p.Resume(ctx, id)
	}
	for name, err := range errs {
		t.Run(name, func(t *testing.T) { wantClass(t, name+" of an unknown unit", err, errdefs.ErrNotFound) })
	}
	if err := d.Delete(ctx, id); err != nil {
		t.Errorf("delete of an unknown unit: %v, want nil", err)
	}
}

// testCreateTwice checks that an ID is taken until deleted.
func testCreateTwice(t *testing.T, newDriver Factory) {
	d, img := newDriver(t)
	ctx := context.Background()
	spec := created(t, d, img)
	wantClass(t, "second create", d.Create(ctx, spec), errdefs.ErrAlreadyExists)
	if err := d.Delete(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Create(ctx, spec); err != nil {
		t.Errorf("create after delete: %v", err)
	}
}
