package account

import (
	"context"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
)

// maxKeyName bounds a key's name.
const maxKeyName = 200

// CreateKey makes a key for userID, expiring after expiresIn (0 = never), and returns the
// key itself, which is never kept and cannot be shown again.
func (s *Service) CreateKey(ctx context.Context, userID, name string, expiresIn time.Duration) (string, *Key, error) {
	if len(name) > maxKeyName {
		return "", nil, errdefs.InvalidArgument("a key name has at most %d bytes", maxKeyName)
	}
	if expiresIn < 0 {
		return "", nil, errdefs.InvalidArgument("expires_in must not be negative")
	}
	secret := NewKey()
	now := s.opts.Now().UTC()
	k := &Key{ID: KeyID(secret), UserID: userID, Name: name, Hash: HashKey(secret), CreatedAt: now}
	if expiresIn > 0 {
		exp := now.Add(expiresIn)
		k.ExpiresAt = &exp
	}
	unlock, err := s.lockChanges(ctx)
	if err != nil {
		return "", nil, err
	}
	defer unlock()
	u, err := s.st.GetUser(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	if err := s.st.CreateKey(ctx, k); err != nil {
		return "", nil, err
	}
	s.record(ctx, audit.KeyCreated, map[string]any{"user_id": u.ID, "email": u.Email, "key": k.ID, "name": k.Name})
	return secret, k, nil
}

// ListKeys returns userID's keys, oldest first, with last-used times not yet written.
func (s *Service) ListKeys(ctx context.Context, userID string) ([]*Key, error) {
	keys, err := s.st.ListKeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if t, ok := s.touch.pendingFor(k.ID); ok && (k.LastUsedAt == nil || t.After(*k.LastUsedAt)) {
			k.LastUsedAt = &t
		}
	}
	return keys, nil
}

// RevokeKey deletes userID's key keyID; it stops working at once. Another user's key is not
// found.
func (s *Service) RevokeKey(ctx context.Context, userID, keyID string) error {
	unlock, err := s.lockChanges(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	keys, err := s.st.ListKeys(ctx, userID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.ID != keyID {
			continue
		}
		if err := s.st.DeleteKey(ctx, k.ID); err != nil {
			return err
		}
		s.changed()
		s.record(ctx, audit.KeyRevoked, map[string]any{"user_id": userID, "key": k.ID, "name": k.Name})
		return nil
	}
	return errdefs.NotFound("key %q not found", keyID)
}
