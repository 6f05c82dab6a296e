package accounts

import (
	"context"
	"net/http"
	"time"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

func (a *API) needSandboxes() error {
	if a.sbs == nil || a.store == nil {
		return errdefs.Unavailable("sharing and quotas are not enabled on this server")
	}
	return nil
}

// share gives a user a role on a sandbox; only its owner and admins may.
func (a *API) share(w http.ResponseWriter, r *http.Request) error {
	if err := a.needSandboxes(); err != nil {
		return err
	}
	var req apitype.ShareRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	role := account.ShareRole(req.Role)
	if !role.Valid() {
		return errdefs.InvalidArgument("role %q: use viewer or operator", req.Role)
	}
	sb, err := a.sbs.Authorize(r.Context(), r.PathValue("name"), manager.AccessOwn)
	if err != nil {
		return err
	}
	u, err := a.svc.UserByEmail(r.Context(), req.Email)
	if err != nil {
		return err
	}
	if u.ID == sb.Owner {
		return errdefs.InvalidArgument("%s owns sandbox %q", u.Email, sb.Name)
	}
	sh := &account.Share{SandboxID: sb.ID, UserID: u.ID, Role: role, CreatedAt: nowUTC()}
	if err := a.store.PutShare(r.Context(), sh); err != nil {
		return err
	}
	a.record(r, audit.SandboxShared, sb.Name, map[string]any{"with_user_id": u.ID, "with_email": u.Email, "role": string(role)})
	return ok(w, http.StatusCreated, apitype.Share{UserID: u.ID, Email: u.Email, Role: string(role), CreatedAt: sh.CreatedAt})
}

// listShares answers who a sandbox is shared with, to anyone who can see it.
func (a *API) listShares(w http.ResponseWriter, r *http.Request) error {
	if err := a.needSandboxes(); err != nil {
		return err
	}
	sb, err := a.sbs.Authorize(r.Context(), r.PathValue("name"), manager.AccessView)
	if err != nil {
		return err
	}
	shs, err := a.store.ListShares(r.Context(), sb.ID)
	if err != nil {
		return err
	}
	out := []apitype.Share{}
	for _, sh := range shs {
		v := apitype.Share{UserID: sh.UserID, Role: string(sh.Role), CreatedAt: sh.CreatedAt}
		if u, err := a.svc.GetUser(r.Context(), sh.UserID); err == nil {
			v.Email = u.Email
		}
		out = append(out, v)
	}
	return ok(w, http.StatusOK, out)
}

// unshare takes a user's share away; the owner and admins may, and so may the user
// themselves (leaving a sandbox shared with them).
func (a *API) unshare(w http.ResponseWriter, r *http.Request) error {
	if err := a.needSandboxes(); err != nil {
		return err
	}
	u, err := a.svc.UserByEmail(r.Context(), r.PathValue("email"))
	if err != nil {
		return err
	}
	need := manager.AccessOwn
	if id, ok := caller(r); ok && id.UserID == u.ID {
		need = manager.AccessView
	}
	sb, err := a.sbs.Authorize(r.Context(), r.PathValue("name"), need)
	if err != nil {
		return err
	}
	if err := a.store.DeleteShare(r.Context(), sb.ID, u.ID); err != nil {
		return err
	}
	a.record(r, audit.SandboxUnshared, sb.Name, map[string]any{"with_user_id": u.ID, "with_email": u.Email})
	return ok(w, http.StatusOK, nil)
}

func (a *API) quotaAndUse(ctx context.Context, userID string) (apitype.Quota, apitype.Usage, error) {
	q, err := a.sbs.QuotaOf(ctx, userID)
	if err != nil {
		return apitype.Quota{}, apitype.Usage{}, err
	}
	use, err := a.sbs.UsageOf(ctx, userID)
	if err != nil {
		return apitype.Quota{}, apitype.Usage{}, err
	}
	return quotaView(q), apitype.Usage{Sandboxes: use.Sandboxes, MemoryMB: use.MemoryMB, VCPUs: use.VCPUs,
		CreatesLastMinute: use.CreatesLastMinute, Sessions: use.Sessions}, nil
}

// getQuota answers a user's quota and use.
func (a *API) getQuota(w http.ResponseWriter, r *http.Request) error {
	if err := a.needSandboxes(); err != nil {
		return err
	}
	u, err := a.svc.UserByEmail(r.Context(), r.PathValue("email"))
	if err != nil {
		return err
	}
	q, use, err := a.quotaAndUse(r.Context(), u.ID)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, apitype.Me{User: userView(u), Quota: &q, Usage: &use})
}

// setQuota overrides a user's quota; absent fields keep their current value.
func (a *API) setQuota(w http.ResponseWriter, r *http.Request) error {
	if err := a.needSandboxes(); err != nil {
		return err
	}
	var req apitype.Quota
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	u, err := a.svc.UserByEmail(r.Context(), r.PathValue("email"))
	if err != nil {
		return err
	}
	q, err := a.sbs.QuotaOf(r.Context(), u.ID)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		in   *int
		out  *int
	}{{"sandboxes", req.Sandboxes, &q.Sandboxes}, {"memory_mb", req.MemoryMB, &q.MemoryMB}, {"vcpus", req.VCPUs, &q.VCPUs},
		{"creates_per_minute", req.CreatesPerMinute, &q.CreatesPerMinute}, {"sessions", req.Sessions, &q.Sessions}} {
		if f.in == nil {
			continue
		}
		if *f.in < 0 {
			return errdefs.InvalidArgument("%s: use 0 (no limit) or a positive number", f.name)
		}
		*f.out = *f.in
	}
	if err := a.store.SetQuota(r.Context(), u.ID, q); err != nil {
		return err
	}
	a.record(r, audit.QuotaChanged, "", map[string]any{"user_id": u.ID, "email": u.Email, "quota": q})
	qv, use, err := a.quotaAndUse(r.Context(), u.ID)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, apitype.Me{User: userView(u), Quota: &qv, Usage: &use})
}

func quotaView(q account.Quota) apitype.Quota {
	v := func(n int) *int { return &n }
	return apitype.Quota{Sandboxes: v(q.Sandboxes), MemoryMB: v(q.MemoryMB), VCPUs: v(q.VCPUs),
		CreatesPerMinute: v(q.CreatesPerMinute), Sessions: v(q.Sessions)}
}

func nowUTC() time.Time { return time.Now().UTC() }

// record writes an audit event of a share or quota change; a failure is logged.
func (a *API) record(r *http.Request, typ, sandbox string, details map[string]any) {
	if a.audit == nil {
		return
	}
	if err := a.audit.Record(r.Context(), typ, sandbox, details); err != nil {
		a.log.Error("record audit event", "op", typ, "req", httpx.RequestID(r.Context()), "err", err)
	}
}
