// Package session keeps persistent code sessions ("kernels"): each one is a code context in
// a sandbox of its own, so two sessions never share a process or a filesystem. Executions
// are aggregated from the guest's code-interpreter events into results with status, output,
// return value, rich outputs and errors.
package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/kernel"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// Kernel is one session.
type Kernel struct {
	ID             string    `json:"kernel_id"`
	Name           string    `json:"name"`
	Language       string    `json:"language"`
	Sandbox        string    `json:"sandbox"`
	Owner          string    `json:"-"`
	Status         string    `json:"status"` // idle, busy, dead
	CreatedAt      time.Time `json:"created_at"`
	LastUsedAt     time.Time `json:"last_used_at"`
	ExecutionCount int       `json:"execution_count"`
	AttemptCount   int       `json:"attempt_count"`
	// SessionName is the /sessions/{name} the kernel backs ("" for kernels made directly).
	SessionName string            `json:"session_name,omitempty"`
	Tags        map[string]string `json:"tags"`

	contextID  string
	ownSandbox bool       // created for this kernel, deleted with it
	mu         sync.Mutex // one execution at a time
	// others are the contexts of the other languages run in this kernel (language → ID),
	// started in its sandbox on first use: as in KernelBox, where a kernel runs bash cells
	// too, a kernel runs any language, its own by default.
	others map[string]string
	omu    sync.Mutex // guards others
}

// Options configure the registry.
type Options struct {
	OutputLimit int           // characters of output kept per execution (default 10,000)
	MaxCodeSize int           // bytes of code accepted (default 1 MiB)
	IdleTimeout time.Duration // sessions unused this long are deleted (0 = never)
	Profile     string        // profile of the sandboxes kernels get (default: the server's)
	Audit       *audit.Recorder
	Log         *slog.Logger
}

// Registry holds the kernels. Safe for concurrent use.
type Registry struct {
	m    *manager.Manager
	opts Options

	mu      sync.Mutex
	kernels map[string]*Kernel // by ID
	// creating holds the names (per owner) of kernels being created; each channel is
	// closed when that creation ends, either way.
	creating map[nameKey]chan struct{}
}

// nameKey is a kernel name of one owner.
type nameKey struct{ owner, name string }

// New returns an empty registry.
func New(m *manager.Manager, opts Options) *Registry {
	if opts.OutputLimit <= 0 {
		opts.OutputLimit = 10_000
	}
	if opts.MaxCodeSize <= 0 {
		opts.MaxCodeSize = 1 << 20
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	r := &Registry{m: m, opts: opts, kernels: map[string]*Kernel{}, creating: map[nameKey]chan struct{}{}}
	m.CountSessionsWith(r.Count)
	return r
}

// OwnerOf is who the kernels made by a call of ctx belong to: the authenticated user's ID, or
// without accounts (a server without authentication, the server's own work) the actor.
func OwnerOf(ctx context.Context) string {
	if id, ok := account.IdentityFrom(ctx); ok && id.UserID != "" {
		return id.UserID
	}
	return audit.OriginFrom(ctx).Actor
}

// CreateRequest describes a new kernel.
type CreateRequest struct {
	Name     string
	Language string
	Sandbox  string // an existing sandbox to run in ("" = a new one of its own)
	Owner    string // see OwnerOf
	Session  bool   // the kernel backs /sessions/{Name}
	Tags     map[string]string
}

// MarshalJSON writes the kernel record with age_seconds, the time since it was created.
func (k *Kernel) MarshalJSON() ([]byte, error) {
	type record Kernel // the same fields, without this method
	return json.Marshal(struct {
		*record
		AgeSeconds float64 `json:"age_seconds"`
	}{(*record)(k), time.Since(k.CreatedAt).Seconds()})
}

// Create starts a kernel. Names are unique per owner: a name that a kernel has, or that
// another call is creating a kernel under, is taken.
func (r *Registry) Create(ctx context.Context, req CreateRequest) (*Kernel, error) {
	if _, err := language(req.Language); err != nil {
		return nil, err
	}
	if req.Name == "" {
		req.Name = "kernel-" + randomHex(4)
	}
	limit, err := r.sessionLimit(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.findOwnLocked(req.Name, req.Owner) != nil || r.creating[nameKey{req.Owner, req.Name}] != nil {
		r.mu.Unlock()
		return nil, errdefs.AlreadyExists("a kernel named %q already exists", req.Name)
	}
	if err := r.checkQuotaLocked(req.Owner, limit); err != nil {
		r.mu.Unlock()
		return nil, err
	}
	release := r.reserveLocked(req.Owner, req.Name)
	r.mu.Unlock()
	defer release()
	return r.create(ctx, req)
}

// GetOrCreate returns the owner's kernel called req.Name, creating it when it does not
// exist. Concurrent first calls for one name make one kernel: the others wait for it, and
// when its creation fails, try in turn.
func (r *Registry) GetOrCreate(ctx context.Context, req CreateRequest) (*Kernel, error) {
	// The common case, an execute in an existing session, reads no quota.
	r.mu.Lock()
	k := r.findOwnLocked(req.Name, req.Owner)
	r.mu.Unlock()
	if k != nil {
		return k, nil
	}
	limit, err := r.sessionLimit(ctx)
	if err != nil {
		return nil, err
	}
	for {
		r.mu.Lock()
		if k := r.findOwnLocked(req.Name, req.Owner); k != nil {
			r.mu.Unlock()
			return k, nil
		}
		pending := r.creating[nameKey{req.Owner, req.Name}]
		if pending == nil {
			if err := r.checkQuotaLocked(req.Owner, limit); err != nil {
				r.mu.Unlock()
				return nil, err
			}
			release := r.reserveLocked(req.Owner, req.Name)
			r.mu.Unlock()
			defer release()
			return r.create(ctx, req)
		}
		r.mu.Unlock()
		select {
		case <-pending:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// language normalises a kernel language, refusing unsupported ones.
func language(name string) (string, error) {
	lang := kernel.Normalize(name)
	if _, ok := kernel.Lookup(lang); !ok {
		return "", errdefs.InvalidArgument("unsupported language %q: use one of %s", name, strings.Join(kernel.Languages(), ", "))
	}
	return lang, nil
}

// reserveLocked marks the owner's name as being created; release ends that, after the
// kernel (if any) is registered. r.mu must be held.
func (r *Registry) reserveLocked(owner, name string) (release func()) {
	key, done := nameKey{owner, name}, make(chan struct{})
	r.creating[key] = done
	return func() {
		r.mu.Lock()
		delete(r.creating, key)
		r.mu.Unlock()
		close(done)
	}
}

// create makes the kernel req describes, whose name the caller has reserved.
func (r *Registry) create(ctx context.Context, req CreateRequest) (*Kernel, error) {
	lang, err := language(req.Language)
	if err != nil {
		return nil, err
	}
	k := &Kernel{ID: randomHex(8), Name: req.Name, Language: lang, Owner: req.Owner, Status: "idle",
		Tags: maps.Clone(req.Tags)}
	if k.Tags == nil {
		k.Tags = map[string]string{}
	}
	if req.Session {
		k.SessionName = req.Name
	}
	sbName := req.Sandbox
	if sbName == "" {
		sb, err := r.m.Create(ctx, sandbox.Spec{Name: "kb-" + k.ID, Profile: r.opts.Profile,
			Labels: map[string]string{LabelKernel: k.ID}}, req.Owner)
		if err != nil {
			return nil, err
		}
		sbName, k.ownSandbox = sb.Name, true
	}
	k.Sandbox = sbName
	if k.contextID, err = r.m.CreateCodeContext(ctx, sbName, lang, ""); err != nil {
		r.dropSandbox(ctx, k)
		return nil, err
	}
	now := time.Now().UTC()
	k.CreatedAt, k.LastUsedAt = now, now
	r.mu.Lock()
	r.kernels[k.ID] = k
	r.mu.Unlock()
	return k, nil
}

// Get finds a kernel by ID or name. A user finds their own kernels; an admin (and the
// server itself) finds any kernel by ID and their own by name. Another user's kernel is not
// found, exactly as one that does not exist.
func (r *Registry) Get(ctx context.Context, idOrName, owner string) (*Kernel, error) {
	return r.find(ctx, idOrName, owner)
}

func (r *Registry) find(ctx context.Context, idOrName, owner string) (*Kernel, error) {
	all := manager.CallerFrom(ctx).Unrestricted()
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := r.kernels[idOrName]; ok && (all || k.Owner == owner) {
		return k, nil
	}
	if k := r.findOwnLocked(idOrName, owner); k != nil {
		return k, nil
	}
	return nil, errdefs.NotFound("kernel %q not found", idOrName)
}

// findOwnLocked finds the owner's kernel by ID or name under r.mu; nil when there is none.
func (r *Registry) findOwnLocked(idOrName, owner string) *Kernel {
	if k, ok := r.kernels[idOrName]; ok && k.Owner == owner {
		return k
	}
	for _, k := range r.kernels {
		if k.Name == idOrName && k.Owner == owner {
			return k
		}
	}
	return nil
}

// List returns the owner's kernels (every kernel for an admin and the server itself),
// oldest first.
func (r *Registry) List(ctx context.Context, owner string) []*Kernel {
	all := manager.CallerFrom(ctx).Unrestricted()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []*Kernel{}
	for _, k := range r.kernels {
		if all || k.Owner == owner {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// Count is how many kernels owner has, kernels being made included.
func (r *Registry) Count(owner string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.countLocked(owner)
}

func (r *Registry) countLocked(owner string) int {
	n := 0
	for _, k := range r.kernels {
		if k.Owner == owner {
			n++
		}
	}
	for key := range r.creating {
		if key.owner == owner {
			n++
		}
	}
	return n
}

// sessionLimit is the caller's quota of concurrent code sessions (0 = no limit: admins, the
// server itself, and users without one).
func (r *Registry) sessionLimit(ctx context.Context) (int, error) {
	c := manager.CallerFrom(ctx)
	if c.Unrestricted() || c.UserID == "" {
		return 0, nil
	}
	q, err := r.m.QuotaOf(ctx, c.UserID)
	if err != nil {
		return 0, err
	}
	return q.Sessions, nil
}

// checkQuotaLocked refuses one more kernel for owner when they hold limit already; r.mu is
// held, so that concurrent creations are counted against each other.
func (r *Registry) checkQuotaLocked(owner string, limit int) error {
	if limit <= 0 {
		return nil
	}
	if n := r.countLocked(owner); n >= limit {
		return errdefs.New(errdefs.ErrResourceExhausted, "quota exceeded: at most %d code sessions, %d in use", limit, n)
	}
	return nil
}

// Delete ends a kernel and, when it had a sandbox of its own, deletes the sandbox.
func (r *Registry) Delete(ctx context.Context, idOrName, owner string) error {
	k, err := r.find(ctx, idOrName, owner)
	if err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.kernels, k.ID)
	r.mu.Unlock()
	for _, id := range k.contextIDs() {
		// A sandbox that is gone or not running took its contexts with it.
		_ = r.m.DeleteCodeContext(ctx, k.Sandbox, id)
	}
	r.dropSandbox(ctx, k)
	return nil
}

// dropSandbox deletes the kernel's sandbox if it made one; a failure leaves it listed, for
// the user or the TTL reaper to remove.
func (r *Registry) dropSandbox(ctx context.Context, k *Kernel) {
	if k.ownSandbox {
		_ = r.m.Delete(context.WithoutCancel(ctx), k.Sandbox)
	}
}

// Restart clears a kernel's state.
func (r *Registry) Restart(ctx context.Context, idOrName, owner string) (*Kernel, error) {
	k, err := r.find(ctx, idOrName, owner)
	if err != nil {
		return nil, err
	}
	sb, err := r.sandboxOf(ctx, k)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	// The other languages' contexts go; they start again when used.
	k.omu.Lock()
	others := k.others
	k.others = nil
	k.omu.Unlock()
	for _, id := range others {
		_ = r.m.DeleteCodeContext(ctx, sb.ID, id)
	}
	if err := r.m.RestartCodeContext(ctx, sb.ID, k.contextID); err != nil {
		return nil, err
	}
	k.ExecutionCount, k.Status = 0, "idle"
	return k, nil
}

// contextIDs lists the kernel's contexts, its own language's first.
func (k *Kernel) contextIDs() []string {
	k.omu.Lock()
	defer k.omu.Unlock()
	ids := []string{k.contextID}
	for _, id := range k.others {
		ids = append(ids, id)
	}
	return ids
}

// sandboxOf returns the kernel's running sandbox, or a clear error when it is gone.
func (r *Registry) sandboxOf(ctx context.Context, k *Kernel) (*sandbox.Sandbox, error) {
	sb, err := r.m.Get(ctx, k.Sandbox)
	if errdefs.IsNotFound(err) {
		k.Status = "dead"
		return nil, errdefs.FailedPrecondition("kernel %q lost its sandbox %q (it was deleted): delete the kernel and create a new one", k.Name, k.Sandbox)
	}
	if err != nil {
		return nil, err
	}
	if sb.State != sandbox.StateRunning {
		return nil, errdefs.FailedPrecondition("kernel %q: its sandbox %q is %s; start it or delete the kernel", k.Name, k.Sandbox, sb.State)
	}
	return sb, nil
}

// LabelKernel marks the sandboxes made for kernels.
const LabelKernel = "paddock.kernel"

// DropOrphans deletes sandboxes made for kernels this registry does not know, such as those
// of a previous server process (kernels live in memory and do not survive a restart).
func (r *Registry) DropOrphans(ctx context.Context) {
	sbs, err := r.m.List(ctx, sandbox.ListFilter{})
	if err != nil {
		r.opts.Log.Warn("list kernel sandboxes", "err", err)
		return
	}
	for _, sb := range sbs {
		id, ok := sb.Spec.Labels[LabelKernel]
		if !ok {
			continue
		}
		r.mu.Lock()
		_, known := r.kernels[id]
		r.mu.Unlock()
		if !known {
			r.opts.Log.Info("deleting the sandbox of a kernel from before the restart", "sandbox", sb.Name, "kernel", id)
			_ = r.m.Delete(ctx, sb.ID)
		}
	}
}

// CullIdle deletes kernels unused for longer than the idle timeout, recording a
// session_culled event for each, every interval until ctx ends.
func (r *Registry) CullIdle(ctx context.Context, interval time.Duration) {
	if r.opts.IdleTimeout <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cutoff := time.Now().Add(-r.opts.IdleTimeout)
		r.mu.Lock()
		var idle []*Kernel
		for _, k := range r.kernels {
			if k.Status != "busy" && k.LastUsedAt.Before(cutoff) {
				idle = append(idle, k)
			}
		}
		r.mu.Unlock()
		for _, k := range idle {
			actx := audit.WithOrigin(ctx, audit.Origin{Actor: "session-culler"})
			if err := r.Delete(actx, k.ID, k.Owner); err != nil {
				r.opts.Log.Warn("cull idle session", "kernel", k.ID, "err", err)
				continue
			}
			_ = r.opts.Audit.Record(actx, audit.SessionCulled, k.Sandbox, map[string]any{"kernel": k.ID, "name": k.Name,
				"idle_for": time.Since(k.LastUsedAt).Round(time.Second).String()})
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
