package manager

import (
	"context"
	"slices"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/netpolicy"
	"github.com/paddock/paddock/internal/sandbox"
)

// auditNetworkUpdated records a change of a sandbox's egress policy.
const auditNetworkUpdated = "network_updated"

// checkEgress validates the egress part of a spec: the policy must compile, and only an
// egress sandbox can have one.
func (m *Manager) checkEgress(spec sandbox.Spec, mode sandbox.NetworkMode) error {
	if err := m.enforceable(spec.Egress); err != nil {
		return err
	}
	if mode != sandbox.NetworkEgress && !emptyPolicy(spec.Egress) {
		return errdefs.InvalidArgument("allow_out and deny_out need network \"egress\" (this sandbox's network is %q)", mode)
	}
	return nil
}

// enforceable validates p and, when the driver enforces only some rules (kube: no domain
// names), refuses what it would not enforce.
func (m *Manager) enforceable(p sandbox.EgressPolicy) error {
	if err := netpolicy.Validate(p); err != nil {
		return err
	}
	if c, ok := m.driver.(sandbox.EgressChecker); ok {
		return c.CheckEgress(p)
	}
	return nil
}

func emptyPolicy(p sandbox.EgressPolicy) bool { return len(p.AllowOut) == 0 && len(p.DenyOut) == 0 }

// SetEgress replaces a sandbox's egress policy. A running sandbox gets it at once (open
// connections are not cut); a stopped one at its next start. A sandbox without a network
// (mode none) cannot have one: its namespace has only loopback.
func (m *Manager) SetEgress(ctx context.Context, idOrName string, p sandbox.EgressPolicy) (*sandbox.Sandbox, error) {
	if err := m.enforceable(p); err != nil {
		return nil, err
	}
	sb, unlock, err := m.locked(ctx, idOrName, AccessOwn)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if sb.Instance.Network != sandbox.NetworkEgress {
		return nil, errdefs.FailedPrecondition("sandbox %q has no network (mode %q): create it with network \"egress\" to give it a policy", sb.Name, sb.Instance.Network)
	}
	nw, ok := m.driver.(sandbox.Networker)
	if !ok {
		return nil, errdefs.Unavailable("the %s driver cannot enforce egress policies", m.driver.Name())
	}
	if err := nw.SetEgress(ctx, sb.ID, p); err != nil {
		return nil, err
	}
	sb.Spec.Egress, sb.Instance.Egress = p, p
	sb.UpdatedAt = m.cfg.Now().UTC()
	if err := m.updateRecord(ctx, sb); err != nil {
		return nil, err
	}
	m.record(ctx, auditNetworkUpdated, sb.Name, map[string]any{"id": sb.ID,
		"allow_out": slices.Clone(p.AllowOut), "deny_out": slices.Clone(p.DenyOut)})
	return sb, nil
}

// applyClaimedEgress gives a claimed warm sandbox (made with the default policy) the policy
// its user asked for.
func (m *Manager) applyClaimedEgress(ctx context.Context, sb *sandbox.Sandbox) error {
	if emptyPolicy(sb.Spec.Egress) || sb.Instance.Network != sandbox.NetworkEgress {
		return nil
	}
	nw, ok := m.driver.(sandbox.Networker)
	if !ok {
		return errdefs.Unavailable("the %s driver cannot enforce egress policies", m.driver.Name())
	}
	if err := nw.SetEgress(ctx, sb.ID, sb.Spec.Egress); err != nil {
		return err
	}
	sb.Instance.Egress = sb.Spec.Egress
	return nil
}

// reattachNetwork hands an adopted egress sandbox its policy again, which makes the driver
// reconnect a network it lost when Paddock stopped.
func (m *Manager) reattachNetwork(ctx context.Context, sb *sandbox.Sandbox) error {
	nw, ok := m.driver.(sandbox.Networker)
	if !ok || sb.Instance.Network != sandbox.NetworkEgress {
		return nil
	}
	return nw.SetEgress(ctx, sb.ID, sb.Instance.Egress)
}

// RecordViolation writes a policy_violation audit event for what the egress policy of the
// sandbox with unit ID id blocked. Drivers call it from their own goroutines.
func (m *Manager) RecordViolation(id string, v sandbox.NetworkViolation) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	name := id
	if sb, err := m.store.GetSandbox(ctx, id); err == nil {
		name = sb.Name
	}
	details := map[string]any{"id": id, "proto": v.Proto, "reason": v.Reason}
	for k, val := range map[string]string{"dest": v.Dest, "name": v.Name, "rule": v.Rule} {
		if val != "" {
			details[k] = val
		}
	}
	if v.Suppressed > 0 {
		details["suppressed"] = v.Suppressed
	}
	m.record(ctx, audit.PolicyViolation, name, details)
}
