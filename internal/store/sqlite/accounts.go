package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
)

var _ account.Store = (*Store)(nil)

const userColumns = `id, email, name, role, disabled, password_hash, created_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(row scanner) (*account.User, error) {
	var u account.User
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Disabled, &u.PasswordHash, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = time.Unix(0, created).UTC()
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
	_, err := s.db.ExecContext(ctx, `INSERT INTO users(`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, u.Role, u.Disabled, u.PasswordHash, u.CreatedAt.UnixNano())
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("a user with ID %q or email %q exists", u.ID, u.Email)
	}
	return err
}

// GetUser implements account.Store.
func (s *Store) GetUser(ctx context.Context, id string) (*account.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errdefs.NotFound("user %q not found", id)
	}
	return u, err
}

// GetUserByEmail implements account.Store (the column compares without case).
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*account.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errdefs.NotFound("user %q not found", email)
	}
	return u, err
}

// ListUsers implements account.Store.
func (s *Store) ListUsers(ctx context.Context) ([]*account.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*account.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UpdateUser implements account.Store.
func (s *Store) UpdateUser(ctx context.Context, u *account.User) error {
	if err := validUser(u); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE users SET email = ?, name = ?, role = ?, disabled = ?, password_hash = ?, created_at = ? WHERE id = ?`,
		u.Email, u.Name, u.Role, u.Disabled, u.PasswordHash, u.CreatedAt.UnixNano(), u.ID)
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("a user with email %q exists", u.Email)
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errdefs.NotFound("user %q not found", u.ID)
	}
	return nil
}

// DeleteUser implements account.Store; the user's keys, shares and quota go with them (ON DELETE CASCADE).
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	return err
}

const keyColumns = `id, user_id, name, hash, created_at, last_used_at, expires_at`

func scanKey(row scanner) (*account.Key, error) {
	var k account.Key
	var created int64
	var used, expires sql.NullInt64
	if err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Hash, &created, &used, &expires); err != nil {
		return nil, err
	}
	k.CreatedAt = time.Unix(0, created).UTC()
	k.LastUsedAt, k.ExpiresAt = nullTime(used), nullTime(expires)
	return &k, nil
}

func nullTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.Unix(0, v.Int64).UTC()
	return &t
}

func nullInt(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

// CreateKey implements account.Store.
func (s *Store) CreateKey(ctx context.Context, k *account.Key) error {
	if k == nil || k.ID == "" || k.UserID == "" || k.Hash == "" {
		return errdefs.InvalidArgument("a key record needs an ID, a user and a hash")
	}
	return inTx(ctx, s.db, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, k.UserID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errdefs.NotFound("user %q not found", k.UserID)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys(`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.UserID, k.Name, k.Hash, k.CreatedAt.UnixNano(), nullInt(k.LastUsedAt), nullInt(k.ExpiresAt))
		if isUniqueViolation(err) {
			return errdefs.AlreadyExists("key %q exists", k.ID)
		}
		return err
	})
}

// GetKeyByHash implements account.Store.
func (s *Store) GetKeyByHash(ctx context.Context, hash string) (*account.Key, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errdefs.NotFound("key not found")
	}
	return k, err
}

// ListKeys implements account.Store.
func (s *Store) ListKeys(ctx context.Context, userID string) ([]*account.Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*account.Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// DeleteKey implements account.Store.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM api_keys WHERE id = ?`, id)
	return err
}

// TouchKeys implements account.Store, in one transaction.
func (s *Store) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	return inTx(ctx, s.db, func(tx *sql.Tx) error {
		for id, t := range used {
			if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, t.UnixNano(), id); err != nil {
				return err
			}
		}
		return nil
	})
}

// GetSetting implements account.Store.
func (s *Store) GetSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM account_settings WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errdefs.NotFound("setting %q not set", name)
	}
	return v, err
}

// SetSetting implements account.Store.
func (s *Store) SetSetting(ctx context.Context, name, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO account_settings(name, value) VALUES (?, ?)
		ON CONFLICT(name) DO UPDATE SET value = excluded.value`, name, value)
	return err
}
