package fleet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/lock"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/template"
)

// Users finds accounts by email and ID (account.Service is one).
type Users interface {
	UserByEmail(ctx context.Context, email string) (*account.User, error)
	GetUser(ctx context.Context, id string) (*account.User, error)
}

// Options configure a Service.
type Options struct {
	Manager *manager.Manager
	Store   Store
	// Locker serialises an agent's lifecycle changes; replicas that share the store must
	// share it (nil: one in the process).
	Locker lock.Locker
	// Runtimes finds the template a runtime names (nil: every runtime runs on the base
	// template). A runtime with no template of its name among claude-code, gemini-cli and
	// shell runs on the base template until an admin adds one.
	Runtimes func(ctx context.Context, name string) (template.Template, error)
	// Shares and Users give sharing (nil: no sharing; share routes answer 503).
	Shares account.ShareStore
	Users  Users
	// Schedules counts and deletes an agent's schedules (nil: none).
	Schedules Schedules
	// StartHook runs after every start (nil: credentials_injection is "skipped").
	StartHook StartHook
	// OnDelete removes what other packages keep for an agent (its credentials, its SSH
	// grants) when it is deleted; nil: nothing.
	OnDelete func(ctx context.Context, agentID string) error
	// Runs are Sandcaster's agent runs, for context stats (nil: zeros, with the reason).
	Runs   agentrun.Store
	Limits Limits
	// Workspace is where the workspace volume is mounted (default /home/developer). Tests on
	// the fake driver, whose processes run on the host, point it at a temporary directory.
	Workspace string
	// LogBytes bounds each agent's saved log (default 256 KiB).
	LogBytes int
	// StatsInterval is the time between the two readings a CPU percentage comes from
	// (default 250 ms).
	StatsInterval time.Duration
	Log           *slog.Logger
	Now           func() time.Time
}

// Service manages agents. Safe for concurrent use.
type Service struct {
	m     *manager.Manager
	store Store
	opts  Options
	log   *slog.Logger
	locks lock.Locker // serialises lifecycle changes of one agent, across replicas when shared
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Manager == nil || opts.Store == nil {
		return nil, errors.New("fleet: a manager and a store are required")
	}
	opts.Limits = opts.Limits.withDefaults()
	if opts.Workspace == "" {
		opts.Workspace = Workspace
	}
	if opts.LogBytes <= 0 {
		opts.LogBytes = 256 << 10
	}
	if opts.StatsInterval <= 0 {
		opts.StatsInterval = 250 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Locker == nil {
		opts.Locker = &lock.Local{}
	}
	return &Service{m: opts.Manager, store: opts.Store, opts: opts, log: opts.Log, locks: opts.Locker}, nil
}

// WorkspaceDir is where agents' workspaces are mounted.
func (s *Service) WorkspaceDir() string { return s.opts.Workspace }

// lock serialises lifecycle changes of one agent.
func (s *Service) lock(ctx context.Context, id string) (func(), error) {
	return s.locks.Lock(ctx, "agent:"+id)
}

// Access is what a caller may do with an agent.
type Access int

// Access levels: a shared user uses an agent (reads it, starts and stops it, reads its
// files and logs); its owner and admins also change, share and delete it.
const (
	AccessNone Access = iota
	AccessUse
	AccessOwn
)

func (s *Service) accessOf(ctx context.Context, a *Agent) (Access, error) {
	c := manager.CallerFrom(ctx)
	if c.Unrestricted() || (a.Owner != "" && a.Owner == c.UserID) {
		return AccessOwn, nil
	}
	if s.opts.Shares == nil || c.UserID == "" {
		return AccessNone, nil
	}
	if _, err := s.opts.Shares.GetShare(ctx, a.SandboxID, c.UserID); err == nil {
		return AccessUse, nil
	} else if !errdefs.IsNotFound(err) {
		return AccessNone, fmt.Errorf("read share: %w", err)
	}
	return AccessNone, nil
}

// NotFound is the answer for an agent that does not exist or that the caller may not see.
func notFound(name string) error { return errdefs.NotFound("agent %q not found", name) }

// get reads an agent the caller may act on with need: not found when they may not see it,
// permission denied when they may use it but need to own it.
func (s *Service) get(ctx context.Context, name string, need Access) (*Agent, Access, error) {
	a, err := s.store.GetAgent(ctx, name)
	if errdefs.IsNotFound(err) {
		return nil, AccessNone, notFound(name)
	}
	if err != nil {
		return nil, AccessNone, err
	}
	have, err := s.accessOf(ctx, a)
	switch {
	case err != nil:
		return nil, have, err
	case have == AccessNone:
		return nil, have, notFound(name)
	case have < need:
		return nil, have, errdefs.New(errdefs.ErrPermissionDenied, "only the owner of agent %q can do this", a.Name)
	}
	return a, have, nil
}

// Get returns an agent the caller may see, and what they may do with it (AccessOwn for its
// owner and admins, AccessUse for a user it is shared with).
func (s *Service) Get(ctx context.Context, name string) (*Agent, Access, error) {
	return s.get(ctx, name, AccessUse)
}

// Owned returns an agent the caller owns (or, as an admin, may act on as its owner):
// ErrNotFound when they may not see it, ErrPermissionDenied when it is only shared with them.
func (s *Service) Owned(ctx context.Context, name string) (*Agent, error) {
	a, _, err := s.get(ctx, name, AccessOwn)
	return a, err
}

// Lookup returns the agent with this ID or name without checking the caller: for the
// server's own machinery (the schedule runner, the SSH gateway), which acts for an agent
// after its own check (a schedule's owner, a granted key).
func (s *Service) Lookup(ctx context.Context, idOrName string) (*Agent, error) {
	a, err := s.store.GetAgent(ctx, idOrName)
	if errdefs.IsNotFound(err) {
		return nil, notFound(idOrName)
	}
	return a, err
}

// IsOwner reports whether the caller of ctx is the agent's owner (admins are not, though they
// may act as one).
func IsOwner(ctx context.Context, a *Agent) bool {
	c := manager.CallerFrom(ctx)
	return (a.Owner != "" && a.Owner == c.UserID) || (a.Owner == "" && c.System)
}

// List returns the agents the caller may see (their own, those shared with them; all for
// admins), oldest first; with tags, only those carrying at least one of them.
func (s *Service) List(ctx context.Context, tags []string) ([]*Agent, error) {
	all, err := s.store.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, t := range tags {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			want[t] = true
		}
	}
	out := []*Agent{}
	for _, a := range all {
		if have, err := s.accessOf(ctx, a); err != nil {
			return nil, err
		} else if have == AccessNone {
			continue
		}
		if len(want) > 0 && !hasAny(a.Tags, want) {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

func hasAny(tags []string, want map[string]bool) bool {
	for _, t := range tags {
		if want[t] {
			return true
		}
	}
	return false
}

// Sandbox returns the record of an agent's sandbox (nil when it is gone).
func (s *Service) Sandbox(ctx context.Context, a *Agent) *sandbox.Sandbox {
	sb, err := s.m.Get(manager.AsSystem(ctx), a.SandboxID)
	if err != nil {
		return nil
	}
	return sb
}

// Status is an agent's status in upstream's words: running, stopped, exited (failed),
// paused, or not_found when its sandbox is gone.
func (s *Service) Status(ctx context.Context, a *Agent) string {
	sb := s.Sandbox(ctx, a)
	if sb == nil {
		return "not_found"
	}
	return status(sb.State)
}

func status(st sandbox.State) string {
	switch st {
	case sandbox.StateFailed:
		return "exited"
	case sandbox.StateCreating:
		return "created"
	}
	return string(st)
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// newID returns "agt_" and 16 random [a-z0-9].
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i, v := range b {
		b[i] = idAlphabet[int(v)%len(idAlphabet)]
	}
	return "agt_" + string(b)
}

// sandboxName is the name of an agent's sandbox: fixed by its ID, so a rename leaves it.
func sandboxName(id string) string { return "agent-" + strings.TrimPrefix(id, "agt_") }

// cleanupCtx is for undoing partial work after the request's context may have ended.
func cleanupCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// OwnerName is how an agent's owner is shown: their email when known, else their user ID.
func (s *Service) OwnerName(ctx context.Context, a *Agent) string {
	if a.Owner == "" || s.opts.Users == nil {
		return a.Owner
	}
	if u, err := s.opts.Users.GetUser(ctx, a.Owner); err == nil {
		return u.Email
	}
	return a.Owner
}
