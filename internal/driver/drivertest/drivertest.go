// Package drivertest is the conformance suite every sandbox.Driver passes: lifecycle,
// idempotent delete, not-found contract, listing, stats, pause and a reachable guest.
package drivertest

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/profile"
	"github.com/paddock/paddock/internal/sandbox"
)

// Factory returns a fresh driver and the image its sandboxes should use.
type Factory func(t *testing.T) (sandbox.Driver, sandbox.Image)

// Run runs the suite against the driver newDriver makes.
func Run(t *testing.T, newDriver Factory) {
	t.Run("Lifecycle", func(t *testing.T) { testLifecycle(t, newDriver) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newDriver) })
	t.Run("CreateTwice", func(t *testing.T) { testCreateTwice(t, newDriver) })
}

func newSpec(t *testing.T, img sandbox.Image) sandbox.InstanceSpec {
	t.Helper()
	sec, res, nw, err := profile.Resolve(sandbox.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	id := randomID()
	return sandbox.InstanceSpec{ID: id, Hostname: id, Image: img, Resources: res, Security: sec, Network: nw,
		Labels: map[string]string{sandbox.LabelID: id, "suite": "drivertest"}}
}

func randomID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "t" + string(b)
}

// health asks the unit's guest for GET /health over Driver.Dial.
func health(ctx context.Context, d sandbox.Driver, id string) error {
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.Dial(ctx, id)
	}}}
	defer c.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://guest/health", nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return nil
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func find(ctx context.Context, t *testing.T, d sandbox.Driver, id string) (sandbox.Instance, bool) {
	t.Helper()
	list, err := d.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range list {
		if in.ID == id {
			return in, true
		}
	}
	return sandbox.Instance{}, false
}

func testLifecycle(t *testing.T, newDriver Factory) {
	d, img := newDriver(t)
	ctx := context.Background()
	spec := newSpec(t, img)
	t.Cleanup(func() { _ = d.Delete(context.Background(), spec.ID) })
	if err := d.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if in, ok := find(ctx, t, d, spec.ID); !ok || in.State != sandbox.StateStopped || in.Labels["suite"] != "drivertest" {
		t.Fatalf("after create: %+v (found %v), want stopped with labels", in, ok)
	}
	if err := d.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	if err := health(ctx, d, spec.ID); err != nil {
		t.Fatalf("guest not reachable: %v", err)
	}
	if in, _ := find(ctx, t, d, spec.ID); in.State != sandbox.StateRunning {
		t.Errorf("after start: %s", in.State)
	}
	st, err := d.Stats(ctx, spec.ID)
	if err != nil || st.MemoryLimit != uint64(spec.Resources.MemoryMB)<<20 || st.PidsLimit != uint64(spec.Resources.Pids) {
		t.Errorf("stats = %+v, %v; want memory limit %d MiB, pids %d", st, err, spec.Resources.MemoryMB, spec.Resources.Pids)
	}
	if p, ok := d.(sandbox.Pauser); ok {
		if err := p.Pause(ctx, spec.ID); err != nil {
			t.Fatal(err)
		}
		if in, _ := find(ctx, t, d, spec.ID); in.State != sandbox.StatePaused {
			t.Errorf("after pause: %s", in.State)
		}
		if err := p.Resume(ctx, spec.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Stop(ctx, spec.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(ctx, spec.ID, time.Second); err != nil {
		t.Errorf("second stop: %v", err)
	}
	if in, _ := find(ctx, t, d, spec.ID); in.State != sandbox.StateStopped {
		t.Errorf("after stop: %s", in.State)
	}
	if err := d.Start(ctx, spec.ID); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if err := health(ctx, d, spec.ID); err != nil {
		t.Fatalf("guest not reachable after restart: %v", err)
	}
	if err := d.Delete(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, spec.ID); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if _, ok := find(ctx, t, d, spec.ID); ok {
		t.Error("unit still listed after delete")
	}
}

func testNotFound(t *testing.T, newDriver Factory) {
	d, _ := newDriver(t)
	ctx := context.Background()
	id := randomID()
	for name, err := range map[string]error{
		"start": d.Start(ctx, id),
		"stop":  d.Stop(ctx, id, 0),
		"stats": func() error { _, err := d.Stats(ctx, id); return err }(),
		"dial":  func() error { _, err := d.Dial(ctx, id); return err }(),
	} {
		if !errdefs.IsNotFound(err) {
			t.Errorf("%s of unknown unit: %v, want not found", name, err)
		}
	}
	if err := d.Delete(ctx, id); err != nil {
		t.Errorf("delete of unknown unit: %v, want nil", err)
	}
}

func testCreateTwice(t *testing.T, newDriver Factory) {
	d, img := newDriver(t)
	ctx := context.Background()
	spec := newSpec(t, img)
	t.Cleanup(func() { _ = d.Delete(context.Background(), spec.ID) })
	if err := d.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if err := d.Create(ctx, spec); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("second create: %v, want already exists", err)
	}
}
