package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
)

var _ account.Store = (*Store)(nil)

const userColumns = `id, email, name, role, disabled, password_hash, created_at`

func scanUser(row pgx.Row) (*account.User, error) {
	var u account.User
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Disabled, &u.PasswordHash, &u.CreatedAt); err != nil {
		return nil, err
	}
	u.CreatedAt = utc(u.CreatedAt)
	return &u, nil
}

func validUser(u *account.User) error {
	if u == nil || u.ID == "" || u.Email == "" || u.Role == "" {
		return errdefs.InvalidArgument("a user record needs an ID, an email and a role")
	}
	return nil
}

// CreateUser implements account.Store.
func (s *Store) CreateUser(ctx context.Context, u *account.User) error {
	if err := validUser(u); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID, u.Email, u.Name, string(u.Role), u.Disabled, u.PasswordHash, u.CreatedAt)
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("a user with ID %q or email %q exists", u.ID, u.Email)
	}
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, classify(err))
	}
	return nil
}

// GetUser implements account.Store.
func (s *Store) GetUser(ctx context.Context, id string) (*account.User, error) {
	return s.getUser(ctx, `id = $1`, id)
}

// GetUserByEmail implements account.Store (emails compare without case, as the unique index
// on lower(email) does).
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*account.User, error) {
	return s.getUser(ctx, `lower(email) = lower($1)`, email)
}

func (s *Store) getUser(ctx context.Context, where, key string) (*account.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errdefs.NotFound("user %q not found", key)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", key, classify(err))
	}
	return u, nil
}

// ListUsers implements account.Store.
func (s *Store) ListUsers(ctx context.Context) ([]*account.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", classify(err))
	}
	return collect(rows, scanUser, "list users")
}

// UpdateUser implements account.Store.
func (s *Store) UpdateUser(ctx context.Context, u *account.User) error {
	if err := validUser(u); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE users SET email = $2, name = $3, role = $4, disabled = $5, password_hash = $6,
		created_at = $7 WHERE id = $1`, u.ID, u.Email, u.Name, string(u.Role), u.Disabled, u.PasswordHash, u.CreatedAt)
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("a user with email %q exists", u.Email)
	}
	if err != nil {
		return fmt.Errorf("update user %s: %w", u.ID, classify(err))
	}
	if tag.RowsAffected() == 0 {
		return errdefs.NotFound("user %q not found", u.ID)
	}
	return nil
}

// DeleteUser implements account.Store; the user's keys, shares and quota go with them (ON
// DELETE CASCADE).
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete user %s: %w", id, classify(err))
	}
	return nil
}

const keyColumns = `id, user_id, name, hash, created_at, last_used_at, expires_at`

func scanKey(row pgx.Row) (*account.Key, error) {
	var k account.Key
	if err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Hash, &k.CreatedAt, &k.LastUsedAt, &k.ExpiresAt); err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt, k.ExpiresAt = utc(k.CreatedAt), utcPtr(k.LastUsedAt), utcPtr(k.ExpiresAt)
	return &k, nil
}

// CreateKey implements account.Store; a key of an unknown user is ErrNotFound.
func (s *Store) CreateKey(ctx context.Context, k *account.Key) error {
	if k == nil || k.ID == "" || k.UserID == "" || k.Hash == "" {
		return errdefs.InvalidArgument("a key record needs an ID, a user and a hash")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.UserID, k.Name, k.Hash, k.CreatedAt, k.LastUsedAt, k.ExpiresAt)
	switch {
	case isForeignKeyViolation(err):
		return errdefs.NotFound("user %q not found", k.UserID)
	case isUniqueViolation(err):
		return errdefs.AlreadyExists("key %q exists", k.ID)
	case err != nil:
		return fmt.Errorf("create key %s: %w", k.ID, classify(err))
	}
	return nil
}

// GetKeyByHash implements account.Store.
func (s *Store) GetKeyByHash(ctx context.Context, hash string) (*account.Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errdefs.NotFound("key not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get key: %w", classify(err))
	}
	return k, nil
}

// ListKeys implements account.Store.
func (s *Store) ListKeys(ctx context.Context, userID string) ([]*account.Key, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", classify(err))
	}
	return collect(rows, scanKey, "list keys")
}

// DeleteKey implements account.Store.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM api_keys WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete key %s: %w", id, classify(err))
	}
	return nil
}

// TouchKeys implements account.Store, in one statement.
func (s *Store) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	ids, times := make([]string, 0, len(used)), make([]time.Time, 0, len(used))
	for id, t := range used {
		ids, times = append(ids, id), append(times, t)
	}
	_, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = u.at
		FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at) WHERE api_keys.id = u.id`, ids, times)
	if err != nil {
		return fmt.Errorf("touch keys: %w", classify(err))
	}
	return nil
}

// GetSetting implements account.Store.
func (s *Store) GetSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM account_settings WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errdefs.NotFound("setting %q not set", name)
	}
	if err != nil {
		return "", fmt.Errorf("get setting %s: %w", name, classify(err))
	}
	return v, nil
}

// SetSetting implements account.Store.
func (s *Store) SetSetting(ctx context.Context, name, value string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO account_settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("set setting %s: %w", name, classify(err))
	}
	return nil
}

// collect scans every row with scan; what is the failing operation, for the error.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (*T, error), what string) ([]*T, error) {
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, classify(err))
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, classify(err))
	}
	return out, nil
}
