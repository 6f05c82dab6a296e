package e2b

import (
	"net/http"
	"strconv"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/webhook"
)

// WithLifecycle gives the surface the lifecycle events and webhooks (the events API and
// webhook registration answer 503 without them), and returns it.
func (a *API) WithLifecycle(s lifecycle.Store, d *webhook.Dispatcher) *API {
	a.lifecycle, a.dispatcher = s, d
	return a
}

func (a *API) lifecycleStore() (lifecycle.Store, error) {
	if a.lifecycle == nil {
		return nil, errdefs.Unavailable("lifecycle events are not kept by this server")
	}
	return a.lifecycle, nil
}

// eventPage reads the events API's paging: offset (≥ 0, default 0), limit (1–100, default
// 10), orderAsc (default false: newest first).
func eventPage(r *http.Request) (lifecycle.Filter, error) {
	q := r.URL.Query()
	f := lifecycle.Filter{Limit: 10}
	var err error
	if v := q.Get("offset"); v != "" {
		if f.Offset, err = strconv.Atoi(v); err != nil || f.Offset < 0 {
			return f, errdefs.InvalidArgument("offset %q: use a number ≥ 0", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 100 {
			return f, errdefs.InvalidArgument("limit %q: use a number from 1 to 100", v)
		}
	}
	if v := q.Get("orderAsc"); v != "" {
		if f.Asc, err = strconv.ParseBool(v); err != nil {
			return f, errdefs.InvalidArgument("orderAsc %q: use true or false", v)
		}
	}
	return f, nil
}

func writeEvents(w http.ResponseWriter, evs []lifecycle.Event) {
	out := make([]lifecycle.Wire, 0, len(evs))
	for _, ev := range evs {
		out = append(out, ev.ToWire())
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// teamEvents is GET /events/sandboxes: the events of the caller's sandboxes (every
// sandbox's for admins), newest first unless orderAsc.
func (a *API) teamEvents(w http.ResponseWriter, r *http.Request) error {
	s, err := a.lifecycleStore()
	if err != nil {
		return err
	}
	f, err := eventPage(r)
	if err != nil {
		return err
	}
	c := manager.CallerFrom(r.Context())
	f.Owner, f.All = c.UserID, c.Unrestricted()
	evs, err := s.ListLifecycleEvents(r.Context(), f)
	if err != nil {
		return err
	}
	writeEvents(w, evs)
	return nil
}

// sandboxEvents is GET /events/sandboxes/{id}: one sandbox's events, also once it was
// killed. A sandbox the caller may see (theirs or shared with them) shows all its events; a
// killed one shows those of when it was the caller's; another user's is not found.
func (a *API) sandboxEvents(w http.ResponseWriter, r *http.Request) error {
	s, err := a.lifecycleStore()
	if err != nil {
		return err
	}
	f, err := eventPage(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	c := manager.CallerFrom(r.Context())
	f.SandboxID, f.Owner, f.All = id, c.UserID, c.Unrestricted()
	sb, err := a.m.Get(r.Context(), id)
	switch {
	case err == nil:
		f.SandboxID, f.All = sb.ID, true
	case !errdefs.IsNotFound(err):
		return err
	}
	evs, err := s.ListLifecycleEvents(r.Context(), f)
	if err != nil {
		return err
	}
	if sb == nil && len(evs) == 0 && f.Offset == 0 {
		return errdefs.NotFound("sandbox %q not found", id)
	}
	writeEvents(w, evs)
	return nil
}
