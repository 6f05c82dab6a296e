package fleet

import (
	"context"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

// Share is one user an agent is shared with (upstream's AgentShare fields, less its integer
// ID: Paddock's shares are keyed by sandbox and user).
type Share struct {
	AgentName       string    `json:"agent_name"`
	SharedWithEmail string    `json:"shared_with_email"`
	SharedByID      string    `json:"shared_by_id"`
	SharedByEmail   string    `json:"shared_by_email"`
	CreatedAt       time.Time `json:"created_at"`
}

func (s *Service) needShares() error {
	if s.opts.Shares == nil || s.opts.Users == nil {
		return errdefs.Unavailable("sharing is not enabled on this server")
	}
	return nil
}

// ShareWith shares an agent with the user of email as an operator share of its sandbox:
// they may use it (start, stop, files, logs) but not change, share or delete it.
func (s *Service) ShareWith(ctx context.Context, name, email string) (*Share, error) {
	if err := s.needShares(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(email) == "" {
		return nil, fieldError("email", "is required")
	}
	a, _, err := s.get(ctx, name, AccessOwn)
	if err != nil {
		return nil, err
	}
	u, err := s.opts.Users.UserByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	if u.ID == a.Owner {
		return nil, fieldError("email", "cannot share an agent with its owner")
	}
	if _, err := s.opts.Shares.GetShare(ctx, a.SandboxID, u.ID); err == nil {
		return nil, errdefs.AlreadyExists("agent is already shared with %s", u.Email)
	}
	sh := &account.Share{SandboxID: a.SandboxID, UserID: u.ID, Role: account.ShareOperator, CreatedAt: s.opts.Now().UTC()}
	if err := s.opts.Shares.PutShare(ctx, sh); err != nil {
		return nil, err
	}
	c := manager.CallerFrom(ctx)
	return &Share{AgentName: a.Name, SharedWithEmail: u.Email, SharedByID: c.UserID, SharedByEmail: c.Email, CreatedAt: sh.CreatedAt}, nil
}

// Unshare removes the share of email; the owner and admins may, and so may that user.
func (s *Service) Unshare(ctx context.Context, name, email string) error {
	if err := s.needShares(); err != nil {
		return err
	}
	a, have, err := s.get(ctx, name, AccessUse)
	if err != nil {
		return err
	}
	u, err := s.opts.Users.UserByEmail(ctx, email)
	if err != nil {
		return errdefs.NotFound("no sharing found for %s", email)
	}
	if have != AccessOwn && u.ID != manager.CallerFrom(ctx).UserID {
		return errdefs.New(errdefs.ErrPermissionDenied, "only the owner of agent %q can change its sharing", a.Name)
	}
	if _, err := s.opts.Shares.GetShare(ctx, a.SandboxID, u.ID); errdefs.IsNotFound(err) {
		return errdefs.NotFound("no sharing found for %s", email)
	} else if err != nil {
		return err
	}
	return s.opts.Shares.DeleteShare(ctx, a.SandboxID, u.ID)
}

// Shares lists who an agent is shared with (its owner and admins only, as upstream).
func (s *Service) Shares(ctx context.Context, name string) ([]Share, error) {
	if err := s.needShares(); err != nil {
		return nil, err
	}
	a, _, err := s.get(ctx, name, AccessOwn)
	if err != nil {
		return nil, err
	}
	shs, err := s.opts.Shares.ListShares(ctx, a.SandboxID)
	if err != nil {
		return nil, err
	}
	by := Share{}
	if a.Owner != "" {
		if u, err := s.opts.Users.GetUser(ctx, a.Owner); err == nil {
			by.SharedByID, by.SharedByEmail = u.ID, u.Email
		}
	}
	out := []Share{}
	for _, sh := range shs {
		v := Share{AgentName: a.Name, SharedByID: by.SharedByID, SharedByEmail: by.SharedByEmail, CreatedAt: sh.CreatedAt}
		if u, err := s.opts.Users.GetUser(ctx, sh.UserID); err == nil {
			v.SharedWithEmail = u.Email
		}
		out = append(out, v)
	}
	return out, nil
}
