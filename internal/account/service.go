package account

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/invalidate"
	"github.com/paddock/paddock/internal/lock"
)

// Options tune a Service; zero values take the defaults.
type Options struct {
	// Tokens signs login tokens (nil = no logins: POST /api/token is unavailable).
	Tokens *Tokens
	// PasswordCost is bcrypt's cost (default bcrypt.DefaultCost).
	PasswordCost int
	// CacheTTL is how long a key or user looked up stays cached (default 10s). Changes made
	// through the Service drop the cache at once.
	CacheTTL time.Duration
	// Invalidate tells the other replicas that share the store when users or keys change,
	// and this one when they do (nil: alone on the store). Without it, another replica's
	// change reaches this one's cache after CacheTTL.
	Invalidate invalidate.Bus
	// Locker serialises changes, so that "the last admin" is decided once; replicas that
	// share the store must share it (nil: one in the process).
	Locker lock.Locker
	// TouchEvery is how often the last-used times of keys are written (default 1m).
	TouchEvery time.Duration
	Audit      *audit.Recorder
	Log        *slog.Logger
	Now        func() time.Time
}

// Service manages users, keys and logins over a Store and authenticates requests. Safe for
// concurrent use. Changes are serialised (so that "the last admin" is decided once).
type Service struct {
	st   Store
	opts Options

	locker lock.Locker // serialises changes, across replicas when shared (the key "accounts")

	cache cache
	touch toucher
}

// New returns a service over st.
func New(st Store, opts Options) *Service {
	if opts.PasswordCost == 0 {
		opts.PasswordCost = bcrypt.DefaultCost
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = 10 * time.Second
	}
	if opts.TouchEvery == 0 {
		opts.TouchEvery = time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Tokens != nil {
		// Tokens expire on the service's clock (tests set it).
		t := *opts.Tokens
		t.now = opts.Now
		opts.Tokens = &t
	}
	if opts.Locker == nil {
		opts.Locker = &lock.Local{}
	}
	s := &Service{st: st, opts: opts, locker: opts.Locker, cache: newCache(), touch: toucher{pending: map[string]time.Time{}}}
	if opts.Invalidate != nil {
		opts.Invalidate.Subscribe(invalidate.Accounts, func(string) { s.cache.drop() })
	}
	return s
}

// lockChanges takes the lock every change of users and keys holds.
func (s *Service) lockChanges(ctx context.Context) (func(), error) {
	return s.locker.Lock(ctx, "accounts")
}

// changed drops the cache after a change, here and in the other replicas.
func (s *Service) changed() {
	if s.opts.Invalidate != nil {
		s.opts.Invalidate.Publish(invalidate.Accounts, invalidate.All)
		return
	}
	s.cache.drop()
}

// Logins reports whether the service issues login tokens.
func (s *Service) Logins() bool { return s.opts.Tokens != nil }

// newID returns a random ID with prefix.
func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// normalizeEmail checks an email address and returns it in lower case.
func normalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 {
		return "", errdefs.InvalidArgument("email %q: want an address such as alice@example.com", email)
	}
	return email, nil
}

// ServerKey is a key the server was configured with before it had users (PADDOCK_API_KEY or
// the api-key file), and the name it gets.
type ServerKey struct {
	Key  string
	Name string
}

// Bootstrap makes the first admin (adminEmail) when there is no user yet, and gives every
// server key the store has never seen to the first admin, so that a single-key setup keeps
// working. A server key that was imported once and then revoked stays revoked.
func (s *Service) Bootstrap(ctx context.Context, adminEmail string, keys []ServerKey) (*User, error) {
	unlock, err := s.lockChanges(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	defer s.changed()
	admin, err := s.firstAdmin(ctx, adminEmail)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		hash := HashKey(k.Key)
		marker := "imported_key:" + hash[:16]
		if _, err := s.st.GetSetting(ctx, marker); err == nil {
			continue
		} else if !errdefs.IsNotFound(err) {
			return nil, err
		}
		err := s.st.CreateKey(ctx, &Key{ID: KeyID(k.Key), UserID: admin.ID, Name: k.Name, Hash: hash, CreatedAt: s.opts.Now().UTC()})
		if err != nil && !errors.Is(err, errdefs.ErrAlreadyExists) {
			return nil, fmt.Errorf("import server key: %w", err)
		}
		if err := s.st.SetSetting(ctx, marker, KeyID(k.Key)); err != nil {
			return nil, err
		}
	}
	return admin, nil
}

// firstAdmin returns the admin made at first start, making them when there is no user; when
// they are gone or disabled, the oldest enabled admin.
func (s *Service) firstAdmin(ctx context.Context, email string) (*User, error) {
	id, err := s.st.GetSetting(ctx, SettingFirstAdmin)
	if err == nil {
		if u, err := s.st.GetUser(ctx, id); err == nil && u.Role == RoleAdmin && !u.Disabled {
			return u, nil
		}
	} else if !errdefs.IsNotFound(err) {
		return nil, err
	}
	users, err := s.st.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Role == RoleAdmin && !u.Disabled {
			return u, nil
		}
	}
	if len(users) > 0 {
		return nil, errdefs.FailedPrecondition("no enabled admin left to own the server key")
	}
	if email, err = normalizeEmail(email); err != nil {
		return nil, err
	}
	u := &User{ID: newID("usr_"), Email: email, Name: "admin", Role: RoleAdmin, CreatedAt: s.opts.Now().UTC()}
	if err := s.st.CreateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("create first admin: %w", err)
	}
	if err := s.st.SetSetting(ctx, SettingFirstAdmin, u.ID); err != nil {
		return nil, err
	}
	s.opts.Log.Info("created the first admin", "user", u.ID, "email", u.Email)
	return u, nil
}

// FirstAdmin returns the ID of the admin made at first start ("" before Bootstrap).
func (s *Service) FirstAdmin(ctx context.Context) (string, error) {
	id, err := s.st.GetSetting(ctx, SettingFirstAdmin)
	if errdefs.IsNotFound(err) {
		return "", nil
	}
	return id, err
}

// record writes an audit event about an account change.
func (s *Service) record(ctx context.Context, typ string, details map[string]any) {
	if err := s.opts.Audit.Record(ctx, typ, "", details); err != nil {
		s.opts.Log.Error("record audit event", "op", typ, "err", err)
	}
}
