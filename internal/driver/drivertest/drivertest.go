// Package drivertest is the conformance suite every sandbox.Driver passes: lifecycle,
// idempotent delete, not-found and wrong-state contracts, listing, stats, pause, a reachable
// guest, and volumes for drivers that keep them; RunExitWatcher adds the cases of
// sandbox.ExitWatcher.
package drivertest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/profile"
	"github.com/paddock/paddock/internal/sandbox"
)

// Factory returns a fresh driver, which has no units yet, and the image its sandboxes
// should use. It registers its own cleanup with t.
type Factory func(t *testing.T) (sandbox.Driver, sandbox.Image)

// readyTimeout bounds how long the suite waits for a started guest to answer.
const readyTimeout = 15 * time.Second

// Run runs the suite against the drivers newDriver makes.
func Run(t *testing.T, newDriver Factory) {
	t.Run("Lifecycle", func(t *testing.T) { testLifecycle(t, newDriver) })
	t.Run("WrongState", func(t *testing.T) { testWrongState(t, newDriver) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newDriver) })
	t.Run("CreateTwice", func(t *testing.T) { testCreateTwice(t, newDriver) })
	t.Run("Networker", func(t *testing.T) { testNetworker(t, newDriver) })
	t.Run("Volumes", func(t *testing.T) { testVolumes(t, newDriver) })
}

// PidsUnenforced is implemented by drivers that cannot bound one unit's process count
// (Kubernetes sets pids limits per node, not per pod): PidsUnenforced says why, and their
// Stats report PidsLimit 0, which the suite then expects instead of Resources.Pids.
type PidsUnenforced interface {
	PidsUnenforced() string
}

// NewSpec returns an instance spec with a fresh random ID, the default profile and img.
func NewSpec(t testing.TB, img sandbox.Image) sandbox.InstanceSpec {
	t.Helper()
	sec, res, nw, err := profile.Resolve(sandbox.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	id := RandomID()
	return sandbox.InstanceSpec{ID: id, Hostname: id, Image: img, Resources: res, Security: sec, Network: nw,
		Labels: map[string]string{sandbox.LabelID: id, "suite": "drivertest"}}
}

// RandomID returns a fresh unit ID: a letter and 12 random [a-z0-9].
func RandomID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "t" + string(b)
}

// WaitReady polls the unit's guest with GET /health over Driver.Dial until it answers
// 204 No Content, or until ctx ends; it returns the last failure then.
func WaitReady(ctx context.Context, d sandbox.Driver, id string) error {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.Dial(ctx, id)
	}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	for {
		err := health(ctx, c)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("guest of %s not ready: %w", id, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func health(ctx context.Context, c *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://guest/health", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return errors.New("GET /health: " + resp.Status)
	}
	return nil
}

// ready is WaitReady with the suite's timeout, failing t.
func ready(t *testing.T, d sandbox.Driver, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := WaitReady(ctx, d, id); err != nil {
		t.Fatal(err)
	}
}

// find returns the unit id as List reports it.
func find(t *testing.T, d sandbox.Driver, id string) (sandbox.Instance, bool) {
	t.Helper()
	list, err := d.List(context.Background())
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

// wantState fails t unless List reports id in state.
func wantState(t *testing.T, d sandbox.Driver, id string, state sandbox.State, when string) {
	t.Helper()
	if in, ok := find(t, d, id); !ok || in.State != state {
		t.Errorf("%s: listed %+v (found %v), want %s", when, in, ok, state)
	}
}

// wantClass fails t unless err is of class.
func wantClass(t *testing.T, what string, err, class error) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Errorf("%s: %v, want %v class", what, err, class)
	}
}

// created creates a unit from a fresh spec and deletes it when t ends.
func created(t *testing.T, d sandbox.Driver, img sandbox.Image) sandbox.InstanceSpec {
	t.Helper()
	spec := NewSpec(t, img)
	t.Cleanup(func() {
		if err := d.Delete(context.Background(), spec.ID); err != nil {
			t.Errorf("cleanup: delete %s: %v", spec.ID, err)
		}
	})
	if err := d.Create(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	return spec
}
