package memory

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sshgate"
)

// SSHGrants is an in-memory sshgate.Store; the zero value is ready. It hands out copies only.
type SSHGrants struct {
	mu     sync.Mutex
	grants map[[2]string]sshgate.Grant // by agent ID and fingerprint
}

var _ sshgate.Store = (*SSHGrants)(nil)

// PutSSHGrant implements sshgate.Store.
func (s *SSHGrants) PutSSHGrant(_ context.Context, g *sshgate.Grant) error {
	if g == nil || g.AgentID == "" || g.Fingerprint == "" || g.PublicKey == "" {
		return errdefs.InvalidArgument("a grant needs an agent, a fingerprint and a key")
	}
	c := *g
	// The sqlite store's precision, so both hand back the same values.
	c.ExpiresAt, c.CreatedAt = c.ExpiresAt.UTC().Truncate(time.Microsecond), c.CreatedAt.UTC().Truncate(time.Microsecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grants == nil {
		s.grants = map[[2]string]sshgate.Grant{}
	}
	s.grants[[2]string{g.AgentID, g.Fingerprint}] = c
	return nil
}

// SSHGrant implements sshgate.Store.
func (s *SSHGrants) SSHGrant(_ context.Context, agentID, fingerprint string) (*sshgate.Grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[[2]string{agentID, fingerprint}]
	if !ok {
		return nil, errdefs.NotFound("no ssh grant for this key")
	}
	return &g, nil
}

// ListSSHGrants implements sshgate.Store.
func (s *SSHGrants) ListSSHGrants(_ context.Context, agentID string) ([]sshgate.Grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []sshgate.Grant{}
	for k, g := range s.grants {
		if k[0] == agentID {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b sshgate.Grant) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Fingerprint, b.Fingerprint)
	})
	return out, nil
}

// DeleteSSHGrants implements sshgate.Store.
func (s *SSHGrants) DeleteSSHGrants(_ context.Context, agentID string) (int, error) {
	return s.deleteWhere(func(g sshgate.Grant) bool { return g.AgentID == agentID }), nil
}

// DeleteExpiredSSHGrants implements sshgate.Store.
func (s *SSHGrants) DeleteExpiredSSHGrants(_ context.Context, t time.Time) (int, error) {
	return s.deleteWhere(func(g sshgate.Grant) bool { return !g.ExpiresAt.After(t) }), nil
}

func (s *SSHGrants) deleteWhere(match func(sshgate.Grant) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, g := range s.grants {
		if match(g) {
			delete(s.grants, k)
			n++
		}
	}
	return n
}
