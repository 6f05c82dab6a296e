package account

import (
	"context"
	"strings"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
)

// NewUser is what CreateUser needs; Role defaults to user, Name to the email's local part,
// and without a Password the user logs in with keys only.
type NewUser struct {
	Email    string
	Name     string
	Role     Role
	Password string
}

// CreateUser adds a user.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (*User, error) {
	email, err := normalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if in.Role == "" {
		in.Role = RoleUser
	}
	if !in.Role.Valid() {
		return nil, errdefs.InvalidArgument("role %q: use admin or user", in.Role)
	}
	if in.Name == "" {
		in.Name, _, _ = strings.Cut(email, "@")
	}
	u := &User{ID: newID("usr_"), Email: email, Name: in.Name, Role: in.Role, CreatedAt: s.opts.Now().UTC()}
	if in.Password != "" {
		if u.PasswordHash, err = hashPassword(in.Password, s.opts.PasswordCost); err != nil {
			return nil, err
		}
	}
	unlock, err := s.lockChanges(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := s.st.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	s.record(ctx, audit.UserCreated, map[string]any{"user_id": u.ID, "email": u.Email, "role": string(u.Role)})
	return u, nil
}

// ListUsers returns every user, oldest first.
func (s *Service) ListUsers(ctx context.Context) ([]*User, error) { return s.st.ListUsers(ctx) }

// GetUser returns the user with id.
func (s *Service) GetUser(ctx context.Context, id string) (*User, error) {
	return s.st.GetUser(ctx, id)
}

// UserByEmail returns the user with email (any case).
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, error) {
	return s.st.GetUserByEmail(ctx, strings.TrimSpace(email))
}

// Patch changes a user; nil fields stay as they are.
type Patch struct {
	Name     *string
	Role     *Role
	Disabled *bool
	Password *string
}

// UpdateUser applies p to the user with email. A change that would leave no enabled admin
// is refused (ErrFailedPrecondition).
func (s *Service) UpdateUser(ctx context.Context, email string, p Patch) (*User, error) {
	var hash string
	if p.Password != nil {
		var err error
		if hash, err = hashPassword(*p.Password, s.opts.PasswordCost); err != nil {
			return nil, err
		}
	}
	if p.Role != nil && !p.Role.Valid() {
		return nil, errdefs.InvalidArgument("role %q: use admin or user", *p.Role)
	}
	unlock, err := s.lockChanges(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	u, err := s.st.GetUserByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	changed := []string{}
	if p.Name != nil {
		u.Name = *p.Name
		changed = append(changed, "name")
	}
	if p.Role != nil {
		u.Role = *p.Role
		changed = append(changed, "role")
	}
	if p.Disabled != nil {
		u.Disabled = *p.Disabled
		changed = append(changed, "disabled")
	}
	if p.Password != nil {
		u.PasswordHash = hash
		changed = append(changed, "password")
	}
	if u.Role != RoleAdmin || u.Disabled {
		if err := s.keepAnAdmin(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	s.changed()
	s.record(ctx, audit.UserUpdated, map[string]any{"user_id": u.ID, "email": u.Email, "changed": changed,
		"role": string(u.Role), "disabled": u.Disabled})
	return u, nil
}

// keepAnAdmin fails unless an enabled admin other than userID exists.
func (s *Service) keepAnAdmin(ctx context.Context, userID string) error {
	users, err := s.st.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, o := range users {
		if o.ID != userID && o.Role == RoleAdmin && !o.Disabled {
			return nil
		}
	}
	return errdefs.FailedPrecondition("this is the last enabled admin: make another admin first")
}

// DeleteUser removes the user with email and their keys. Removing the last enabled admin is
// refused (ErrFailedPrecondition).
func (s *Service) DeleteUser(ctx context.Context, email string) error {
	unlock, err := s.lockChanges(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	u, err := s.st.GetUserByEmail(ctx, email)
	if err != nil {
		return err
	}
	if u.Role == RoleAdmin && !u.Disabled {
		if err := s.keepAnAdmin(ctx, u.ID); err != nil {
			return err
		}
	}
	if err := s.st.DeleteUser(ctx, u.ID); err != nil {
		return err
	}
	s.changed()
	s.record(ctx, audit.UserDeleted, map[string]any{"user_id": u.ID, "email": u.Email})
	return nil
}

// ChangePassword sets userID's password. current must match the password they have, if any
// (a stolen key alone cannot take over a login).
func (s *Service) ChangePassword(ctx context.Context, userID, current, password string) error {
	hash, err := hashPassword(password, s.opts.PasswordCost)
	if err != nil {
		return err
	}
	unlock, err := s.lockChanges(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	u, err := s.st.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if u.PasswordHash != "" && !checkPassword(u.PasswordHash, current) {
		return errdefs.New(errdefs.ErrPermissionDenied, "current_password does not match")
	}
	u.PasswordHash = hash
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return err
	}
	s.changed()
	s.record(ctx, audit.PasswordChanged, map[string]any{"user_id": u.ID, "email": u.Email})
	return nil
}
