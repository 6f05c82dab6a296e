package memory

import (
	"cmp"
	"context"
	"slices"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
)

// PutShare implements account.ShareStore.
func (s *Accounts) PutShare(_ context.Context, sh *account.Share) error {
	if sh == nil || sh.SandboxID == "" || sh.UserID == "" || !sh.Role.Valid() {
		return errdefs.InvalidArgument("a share needs a sandbox, a user and a role")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[sh.UserID]; !ok {
		return errdefs.NotFound("user %q not found", sh.UserID)
	}
	s.shares[shareKey{sh.SandboxID, sh.UserID}] = *sh
	return nil
}

// GetShare implements account.ShareStore.
func (s *Accounts) GetShare(_ context.Context, sandboxID, userID string) (*account.Share, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sh, ok := s.shares[shareKey{sandboxID, userID}]
	if !ok {
		return nil, errdefs.NotFound("share not found")
	}
	return &sh, nil
}

// ListShares implements account.ShareStore.
func (s *Accounts) ListShares(_ context.Context, sandboxID string) ([]*account.Share, error) {
	return s.listShares(func(k shareKey) bool { return k.sandbox == sandboxID },
		func(sh *account.Share) string { return sh.UserID }), nil
}

// ListSharesOf implements account.ShareStore.
func (s *Accounts) ListSharesOf(_ context.Context, userID string) ([]*account.Share, error) {
	return s.listShares(func(k shareKey) bool { return k.user == userID },
		func(sh *account.Share) string { return sh.SandboxID }), nil
}

func (s *Accounts) listShares(match func(shareKey) bool, tie func(*account.Share) string) []*account.Share {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []*account.Share{}
	for k, sh := range s.shares {
		if match(k) {
			sh := sh
			out = append(out, &sh)
		}
	}
	slices.SortFunc(out, func(a, b *account.Share) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(tie(a), tie(b)))
	})
	return out
}

// DeleteShare implements account.ShareStore.
func (s *Accounts) DeleteShare(_ context.Context, sandboxID, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.shares, shareKey{sandboxID, userID})
	return nil
}

// DeleteSandboxShares implements account.ShareStore.
func (s *Accounts) DeleteSandboxShares(_ context.Context, sandboxID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.shares {
		if k.sandbox == sandboxID {
			delete(s.shares, k)
		}
	}
	return nil
}

// GetQuota implements account.QuotaStore.
func (s *Accounts) GetQuota(_ context.Context, userID string) (*account.Quota, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	q, ok := s.quotas[userID]
	if !ok {
		return nil, errdefs.NotFound("no quota set for user %q", userID)
	}
	return &q, nil
}

// SetQuota implements account.QuotaStore.
func (s *Accounts) SetQuota(_ context.Context, userID string, q account.Quota) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userID]; !ok {
		return errdefs.NotFound("user %q not found", userID)
	}
	s.quotas[userID] = q
	return nil
}
