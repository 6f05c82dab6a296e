package drivertest

import (
	"context"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// testNetworker checks the Networker contract, for drivers that implement it: a valid policy
// applies to a running egress unit and to a stopped one (for its next start); an invalid one
// is an invalid argument, an unknown unit not found, a unit without a network a failed
// precondition.
func testNetworker(t *testing.T, newDriver Factory) {
	d, img := newDriver(t)
	nw, ok := d.(sandbox.Networker)
	if !ok {
		t.Skipf("the %s driver does not enforce egress policies", d.Name())
	}
	ctx := context.Background()
	spec := NewSpec(t, img)
	spec.Network = sandbox.NetworkEgress
	t.Cleanup(func() { _ = d.Delete(context.Background(), spec.ID) })
	if err := d.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	policy := sandbox.EgressPolicy{AllowOut: []string{"198.51.100.0/24"}, DenyOut: []string{"*.example.com"}}
	if c, ok := d.(sandbox.EgressChecker); ok && c.CheckEgress(policy) != nil {
		// The driver cannot enforce domain rules: it must refuse them, not ignore them.
		wantClass(t, "policy the driver cannot enforce", c.CheckEgress(policy), errdefs.ErrInvalidArgument)
		wantClass(t, "set egress the driver cannot enforce", nw.SetEgress(ctx, spec.ID, policy), errdefs.ErrInvalidArgument)
		policy.DenyOut = []string{"198.51.100.7"}
	}
	if err := nw.SetEgress(ctx, spec.ID, policy); err != nil {
		t.Errorf("set egress of a created unit: %v", err)
	}
	if err := d.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	ready(t, d, spec.ID)
	if err := nw.SetEgress(ctx, spec.ID, sandbox.EgressPolicy{}); err != nil {
		t.Errorf("set egress of a running unit: %v", err)
	}
	wantClass(t, "invalid policy", nw.SetEgress(ctx, spec.ID, sandbox.EgressPolicy{DenyOut: []string{"not a rule"}}), errdefs.ErrInvalidArgument)
	wantClass(t, "unknown unit", nw.SetEgress(ctx, RandomID(), sandbox.EgressPolicy{}), errdefs.ErrNotFound)

	none := NewSpec(t, img)
	none.Network = sandbox.NetworkNone
	t.Cleanup(func() { _ = d.Delete(context.Background(), none.ID) })
	if err := d.Create(ctx, none); err != nil {
		t.Fatal(err)
	}
	wantClass(t, "unit without a network", nw.SetEgress(ctx, none.ID, sandbox.EgressPolicy{}), errdefs.ErrFailedPrecondition)
}
