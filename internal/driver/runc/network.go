package runc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/netns"
	"github.com/paddock/paddock/internal/netpolicy"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/usernet"
)

// resolvConf is what an egress sandbox's /etc/resolv.conf says: its gateway answers DNS.
var resolvConf = "# Paddock: this sandbox's resolver, which answers under its egress policy.\n" +
	"nameserver " + usernet.Gateway.String() + "\n"

func (p paths) netns() string      { return filepath.Join(p.dir, "netns") }
func (p paths) resolvConf() string { return filepath.Join(p.dir, "resolv.conf") }

// attachNetwork gives an egress sandbox its network: a pinned namespace (kept across
// restarts of Paddock, made on first use), a TUN device in it and a user-mode stack behind
// the TUN. It replaces a stack this driver already runs for id.
func (d *Driver) attachNetwork(spec sandbox.InstanceSpec, p paths) (err error) {
	pol, err := netpolicy.Compile(spec.Egress)
	if err != nil {
		return err
	}
	if old := d.detachStack(spec.ID); old != nil {
		// The new device takes the old one's name in the same namespace (a restart after a
		// crash): it can only be made once the old one is gone.
		select {
		case <-old.Released():
		case <-time.After(tunReleaseWait):
			d.log.Warn("old network device not yet released", "sandbox", spec.ID, "waited", tunReleaseWait)
		}
	}
	if !netns.Pinned(p.netns()) {
		_ = os.Remove(p.netns()) // a file left by a crash between create and pin
		if err := netns.Create(p.netns()); err != nil {
			return fmt.Errorf("network of %s: %w", spec.ID, err)
		}
	}
	if err := os.WriteFile(p.resolvConf(), []byte(resolvConf), 0o644); err != nil {
		return fmt.Errorf("network of %s: %w", spec.ID, err)
	}
	fd, err := netns.OpenTUN(p.netns(), netns.TUN{Name: "eth0", MTU: usernet.MTU,
		Addr: usernet.GuestAddr, Gateway: usernet.Gateway})
	if err != nil {
		return fmt.Errorf("network of %s: %w", spec.ID, err)
	}
	cfg := d.cfg.Network
	cfg.Log = d.log.With("sandbox", spec.ID)
	if report := d.cfg.OnViolation; report != nil {
		id := spec.ID
		cfg.OnViolation = func(v usernet.Violation) { report(id, toViolation(v)) }
	}
	n, err := usernet.Start(fd, pol, cfg)
	if err != nil {
		return fmt.Errorf("network of %s: %w", spec.ID, err)
	}
	d.netMu.Lock()
	d.nets[spec.ID] = n
	d.netMu.Unlock()
	return nil
}

// tunReleaseWait bounds how long a new stack waits for its predecessor's device to go.
const tunReleaseWait = 5 * time.Second

// detachStack stops id's user-mode stack, if this driver runs one, and returns it (nil when
// none); the namespace stays.
func (d *Driver) detachStack(id string) *usernet.Network {
	d.netMu.Lock()
	n := d.nets[id]
	delete(d.nets, id)
	d.netMu.Unlock()
	if n != nil {
		if err := n.Close(); err != nil {
			d.log.Warn("close network", "sandbox", id, "err", err)
		}
	}
	return n
}

// detachNetwork stops id's stack and unpins its namespace: the namespace goes away with
// the last process in it.
func (d *Driver) detachNetwork(id string, p paths) error {
	d.detachStack(id)
	if err := netns.Remove(p.netns()); err != nil {
		return fmt.Errorf("network of %s: %w", id, err)
	}
	_ = os.Remove(p.resolvConf())
	return nil
}

// SetEgress implements sandbox.Networker: the policy is recorded for later starts and, when
// the sandbox runs, applied at once. A running egress sandbox whose stack this driver does
// not run (Paddock was restarted) gets its network back.
func (d *Driver) SetEgress(ctx context.Context, id string, policy sandbox.EgressPolicy) error {
	pol, err := netpolicy.Compile(policy)
	if err != nil {
		return err
	}
	spec, err := d.readInstance(id)
	if err != nil {
		return err
	}
	if spec.Network != sandbox.NetworkEgress {
		return errdefs.FailedPrecondition("sandbox %s has no network (mode %q): only egress sandboxes have a policy", id, spec.Network)
	}
	spec.Egress = policy
	if err := d.writeInstance(spec); err != nil {
		return err
	}
	d.netMu.Lock()
	n := d.nets[id]
	d.netMu.Unlock()
	if n != nil {
		n.SetPolicy(pol)
		return nil
	}
	st, err := d.state(ctx, id)
	if err != nil || (st.Status != "running" && st.Status != "paused") {
		return nil // applied at the next start
	}
	return d.attachNetwork(spec, d.paths(id))
}

// writeInstance records spec whole, then renames: readers never see half a spec.
func (d *Driver) writeInstance(spec sandbox.InstanceSpec) error {
	b, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("encode sandbox %s: %w", spec.ID, err)
	}
	p := d.paths(spec.ID)
	tmp := p.instance() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("record sandbox %s: %w", spec.ID, err)
	}
	if err := os.Rename(tmp, p.instance()); err != nil {
		return fmt.Errorf("record sandbox %s: %w", spec.ID, err)
	}
	return nil
}

func toViolation(v usernet.Violation) sandbox.NetworkViolation {
	return sandbox.NetworkViolation{Proto: v.Proto, Dest: v.Dest, Name: v.Name, Rule: v.Rule,
		Reason: v.Reason, Suppressed: v.Suppressed}
}
