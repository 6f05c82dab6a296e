package memory

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
)

// Accounts is an in-memory account.Store. Safe for concurrent use; it keeps and hands out
// copies only.
type Accounts struct {
	mu       sync.RWMutex
	users    map[string]account.User
	keys     map[string]account.Key
	settings map[string]string
	shares   map[shareKey]account.Share
	quotas   map[string]account.Quota
}

type shareKey struct{ sandbox, user string }

var _ account.Store = (*Accounts)(nil)

// NewAccounts returns an empty account store.
func NewAccounts() *Accounts {
	return &Accounts{users: map[string]account.User{}, keys: map[string]account.Key{}, settings: map[string]string{},
		shares: map[shareKey]account.Share{}, quotas: map[string]account.Quota{}}
}

func copyKey(k account.Key) *account.Key {
	if k.LastUsedAt != nil {
		v := *k.LastUsedAt
		k.LastUsedAt = &v
	}
	if k.ExpiresAt != nil {
		v := *k.ExpiresAt
		k.ExpiresAt = &v
	}
	return &k
}

// emailTaken reports whether another user than id has email (any case). Callers hold mu.
func (s *Accounts) emailTaken(email, id string) bool {
	for _, u := range s.users {
		if u.ID != id && strings.EqualFold(u.Email, email) {
			return true
		}
	}
	return false
}

func validUser(u *account.User) error {
	if u == nil || u.ID == "" || u.Email == "" || u.Role == "" {
		return errdefs.InvalidArgument("a user record needs an ID, an email and a role")
	}
	return nil
}

// CreateUser implements account.Store.
func (s *Accounts) CreateUser(_ context.Context, u *account.User) error {
	if err := validUser(u); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.ID]; ok {
		return errdefs.AlreadyExists("user ID %q is taken", u.ID)
	}
	if s.emailTaken(u.Email, u.ID) {
		return errdefs.AlreadyExists("a user with email %q exists", u.Email)
	}
	s.users[u.ID] = *u
	return nil
}

// GetUser implements account.Store.
func (s *Accounts) GetUser(_ context.Context, id string) (*account.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[id]
	if !ok {
		return nil, errdefs.NotFound("user %q not found", id)
	}
	return &u, nil
}

// GetUserByEmail implements account.Store.
func (s *Accounts) GetUserByEmail(_ context.Context, email string) (*account.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, u := range s.users {
		if strings.EqualFold(u.Email, email) {
			return &u, nil
		}
	}
	return nil, errdefs.NotFound("user %q not found", email)
}

// ListUsers implements account.Store.
func (s *Accounts) ListUsers(context.Context) ([]*account.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []*account.User{}
	for _, u := range s.users {
		out = append(out, &u)
	}
	slices.SortFunc(out, func(a, b *account.User) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// UpdateUser implements account.Store.
func (s *Accounts) UpdateUser(_ context.Context, u *account.User) error {
	if err := validUser(u); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.ID]; !ok {
		return errdefs.NotFound("user %q not found", u.ID)
	}
	if s.emailTaken(u.Email, u.ID) {
		return errdefs.AlreadyExists("a user with email %q exists", u.Email)
	}
	s.users[u.ID] = *u
	return nil
}

// DeleteUser implements account.Store.
func (s *Accounts) DeleteUser(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, id)
	for kid, k := range s.keys {
		if k.UserID == id {
			delete(s.keys, kid)
		}
	}
	for sk := range s.shares {
		if sk.user == id {
			delete(s.shares, sk)
		}
	}
	delete(s.quotas, id)
	return nil
}

// CreateKey implements account.Store.
func (s *Accounts) CreateKey(_ context.Context, k *account.Key) error {
	if k == nil || k.ID == "" || k.UserID == "" || k.Hash == "" {
		return errdefs.InvalidArgument("a key record needs an ID, a user and a hash")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[k.UserID]; !ok {
		return errdefs.NotFound("user %q not found", k.UserID)
	}
	for _, o := range s.keys {
		if o.ID == k.ID || o.Hash == k.Hash {
			return errdefs.AlreadyExists("key %q exists", k.ID)
		}
	}
	s.keys[k.ID] = *copyKey(*k)
	return nil
}

// GetKeyByHash implements account.Store.
func (s *Accounts) GetKeyByHash(_ context.Context, hash string) (*account.Key, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range s.keys {
		if k.Hash == hash {
			return copyKey(k), nil
		}
	}
	return nil, errdefs.NotFound("key not found")
}

// ListKeys implements account.Store.
func (s *Accounts) ListKeys(_ context.Context, userID string) ([]*account.Key, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []*account.Key{}
	for _, k := range s.keys {
		if k.UserID == userID {
			out = append(out, copyKey(k))
		}
	}
	slices.SortFunc(out, func(a, b *account.Key) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// DeleteKey implements account.Store.
func (s *Accounts) DeleteKey(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, id)
	return nil
}

// TouchKeys implements account.Store.
func (s *Accounts) TouchKeys(_ context.Context, used map[string]time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range used {
		if k, ok := s.keys[id]; ok {
			t := t
			k.LastUsedAt = &t
			s.keys[id] = k
		}
	}
	return nil
}

// GetSetting implements account.Store.
func (s *Accounts) GetSetting(_ context.Context, name string) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.settings[name]
	if !ok {
		return "", errdefs.NotFound("setting %q not set", name)
	}
	return v, nil
}

// SetSetting implements account.Store.
func (s *Accounts) SetSetting(_ context.Context, name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings[name] = value
	return nil
}
