package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sshgate"
)

// RunSSHGrants is the conformance suite of sshgate.Store; newStore returns an empty one.
func RunSSHGrants(t *testing.T, newStore func(t *testing.T) sshgate.Store) {
	t.Run("RoundTripAndReplace", func(t *testing.T) { testGrantRoundTrip(t, newStore(t)) })
	t.Run("DeleteByAgentAndExpiry", func(t *testing.T) { testGrantDeletes(t, newStore(t)) })
	t.Run("InvalidGrant", func(t *testing.T) { testGrantInvalid(t, newStore(t)) })
}

func grant(agent, fp string, created time.Time, ttl time.Duration) *sshgate.Grant {
	return &sshgate.Grant{AgentID: agent, Fingerprint: fp, PublicKey: "ssh-ed25519 AAAA" + fp,
		CreatedAt: created, ExpiresAt: created.Add(ttl)}
}

func testGrantRoundTrip(t *testing.T, s sshgate.Store) {
	ctx := context.Background()
	g := grant("agt_1", "SHA256:a", epoch, time.Hour)
	if err := s.PutSSHGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	got, err := s.SSHGrant(ctx, "agt_1", "SHA256:a")
	if err != nil || !reflect.DeepEqual(got, g) {
		t.Fatalf("get = %+v, %v; want %+v", got, err, g)
	}
	// The same key for another agent is another grant; for the same agent it replaces.
	if err := s.PutSSHGrant(ctx, grant("agt_2", "SHA256:a", epoch, time.Minute)); err != nil {
		t.Fatal(err)
	}
	moved := grant("agt_1", "SHA256:a", epoch.Add(time.Second), 2*time.Hour)
	if err := s.PutSSHGrant(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SSHGrant(ctx, "agt_1", "SHA256:a"); !reflect.DeepEqual(got, moved) {
		t.Errorf("after replace = %+v, want %+v", got, moved)
	}
	if err := s.PutSSHGrant(ctx, grant("agt_1", "SHA256:b", epoch.Add(2*time.Second), time.Hour)); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListSSHGrants(ctx, "agt_1")
	if err != nil || len(list) != 2 || list[0].Fingerprint != "SHA256:a" || list[1].Fingerprint != "SHA256:b" {
		t.Errorf("list = %+v, %v", list, err)
	}
	if list, err := s.ListSSHGrants(ctx, "agt_none"); err != nil || list == nil || len(list) != 0 {
		t.Errorf("list of none = %#v, %v; want empty", list, err)
	}
	if _, err := s.SSHGrant(ctx, "agt_3", "SHA256:a"); !errdefs.IsNotFound(err) {
		t.Errorf("grant of another agent: %v, want not found", err)
	}
}

func testGrantDeletes(t *testing.T, s sshgate.Store) {
	ctx := context.Background()
	for _, g := range []*sshgate.Grant{grant("agt_1", "SHA256:a", epoch, time.Minute), grant("agt_1", "SHA256:b", epoch, time.Hour),
		grant("agt_2", "SHA256:a", epoch, time.Minute), grant("agt_2", "SHA256:c", epoch, 3*time.Hour)} {
		if err := s.PutSSHGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteExpiredSSHGrants(ctx, epoch.Add(time.Minute)); err != nil || n != 2 {
		t.Errorf("sweep at the first expiry: %d, %v; want 2 (expiry is inclusive)", n, err)
	}
	if _, err := s.SSHGrant(ctx, "agt_1", "SHA256:a"); !errdefs.IsNotFound(err) {
		t.Errorf("expired grant kept: %v", err)
	}
	if n, err := s.DeleteSSHGrants(ctx, "agt_1"); err != nil || n != 1 {
		t.Errorf("revoke agt_1: %d, %v; want 1", n, err)
	}
	if n, err := s.DeleteSSHGrants(ctx, "agt_1"); err != nil || n != 0 {
		t.Errorf("revoke again: %d, %v; want 0, nil", n, err)
	}
	if _, err := s.SSHGrant(ctx, "agt_2", "SHA256:c"); err != nil {
		t.Errorf("another agent's grant lost: %v", err)
	}
}

func testGrantInvalid(t *testing.T, s sshgate.Store) {
	for _, g := range []*sshgate.Grant{nil, {Fingerprint: "f", PublicKey: "k"}, {AgentID: "a", PublicKey: "k"}, {AgentID: "a", Fingerprint: "f"}} {
		if err := s.PutSSHGrant(context.Background(), g); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("put %+v: %v, want invalid argument", g, err)
		}
	}
}
