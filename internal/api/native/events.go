package native

import (
	"net/http"
	"strconv"
	"time"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
)

// maxEventLimit bounds one page of events.
const maxEventLimit = 10000

func (a *API) sandboxLogs(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if sb, err := a.m.Get(r.Context(), name); err == nil {
		name = sb.Name
	}
	scope, err := a.m.EventScope(r.Context())
	if err != nil {
		return err
	}
	evs, err := a.audit.ListEvents(r.Context(), audit.Filter{Sandbox: name, Limit: maxEventLimit, Scope: scope})
	if err != nil {
		return err
	}
	if len(evs) == 0 {
		if _, err := a.m.Get(r.Context(), name); err != nil {
			return err // unknown (or another user's) sandbox with no history they may see: 404
		}
	}
	return ok(w, http.StatusOK, toEvents(evs))
}

// toEvents is evs as this surface shows them.
func toEvents(evs []audit.Event) []apitype.AuditEvent {
	out := make([]apitype.AuditEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, apitype.AuditEvent{ID: e.ID, Time: e.Time, Event: e.Type, Sandbox: e.Sandbox,
			Actor: e.Actor, RequestID: e.RequestID, UserID: e.UserID, UserEmail: e.UserEmail, KeyID: e.KeyID,
			Details: e.Details})
	}
	return out
}

func (a *API) listEvents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := audit.Filter{Sandbox: q.Get("sandbox"), Type: q.Get("type")}
	var err error
	if f.Since, err = parseTime(q.Get("since"), "since"); err != nil {
		return err
	}
	if f.Until, err = parseTime(q.Get("until"), "until"); err != nil {
		return err
	}
	if s := q.Get("limit"); s != "" {
		if f.Limit, err = strconv.Atoi(s); err != nil || f.Limit < 1 || f.Limit > maxEventLimit {
			return errdefs.InvalidArgument("limit %q: use 1 to %d", s, maxEventLimit)
		}
	}
	if f.Scope, err = a.m.EventScope(r.Context()); err != nil {
		return err
	}
	evs, err := a.audit.ListEvents(r.Context(), f)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toEvents(evs))
}

func parseTime(s, field string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errdefs.InvalidArgument("%s %q: use an RFC 3339 time such as 2026-01-30T12:00:00Z", field, s)
	}
	return t, nil
}
