package sandcaster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

// SessionsPath is where sessions live (KernelBox owns /sessions/{name}/execute and
// /sessions/{name}/execute_with_retry under it).
const SessionsPath = "/sessions"

// LabelSession marks a session's sandbox with the session's ID.
const LabelSession = "paddock.sandcaster.session"

// Session defaults and limits (upstream's).
const (
	DefaultSessionIdle = 900 * time.Second
	defaultMaxHistory  = 50
	maxActiveSessions  = 100
	defaultSessionList = 50
)

// Session error codes (upstream's), with their status.
var sessionStatus = map[string]int{
	"SESSION_NOT_FOUND": http.StatusNotFound, "SESSION_BUSY": http.StatusConflict,
	"SESSION_EXPIRED": http.StatusGone, "SESSION_CAPACITY_EXCEEDED": http.StatusServiceUnavailable,
}

// sessionError is answered as {"error": msg, "code": code}.
type sessionError struct{ code, msg string }

func (e *sessionError) Error() string { return e.msg }

func sessionErr(code, format string, args ...any) error {
	return &sessionError{code: code, msg: fmt.Sprintf(format, args...)}
}

// sessionConfig is upstream's SessionConfigSchema.
type sessionConfig struct {
	IdleTimeoutSecs *int   `json:"idleTimeoutSecs,omitempty"`
	Name            string `json:"name,omitempty"`
	MaxHistoryTurns *int   `json:"maxHistoryTurns,omitempty"`
}

// sessionCreateRequest is POST /sessions' body: a query plus sessionConfig.
type sessionCreateRequest struct {
	queryRequest
	SessionConfig *sessionConfig `json:"sessionConfig,omitempty"`
}

// sessionMessageRequest is POST /sessions/{id}/messages' body.
type sessionMessageRequest struct {
	Prompt string            `json:"prompt"`
	Files  map[string]string `json:"files,omitempty"`
}

// sessionEvent is session_created and session_expired.
type sessionEvent struct {
	Type      string `json:"type"`
	SessionID string `json:"sessionId"`
	Content   string `json:"content"`
}

// streamed is an event as a stream sends it: its name and JSON body.
type streamed struct {
	name string
	v    any
}

// decodeSessionCreate reads and validates POST /sessions' body.
func (a *API) decodeSessionCreate(w http.ResponseWriter, r *http.Request) (*sessionCreateRequest, error) {
	var req sessionCreateRequest
	if err := httpx.Decode(w, r, &req, a.opts.MaxBodyBytes, true, false); err != nil {
		return nil, decodeError(err)
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	if c := req.SessionConfig; c != nil {
		switch {
		case c.IdleTimeoutSecs != nil && (*c.IdleTimeoutSecs < 30 || *c.IdleTimeoutSecs > 86400):
			return nil, fieldErr("sessionConfig.idleTimeoutSecs", "must be between 30 and 86400 seconds")
		case len([]rune(c.Name)) > 100:
			return nil, fieldErr("sessionConfig.name", "at most 100 characters")
		case c.MaxHistoryTurns != nil && (*c.MaxHistoryTurns < 1 || *c.MaxHistoryTurns > 500):
			return nil, fieldErr("sessionConfig.maxHistoryTurns", "must be between 1 and 500")
		}
	}
	return &req, nil
}

// createSession validates the request, then streams session_created and the first turn.
func (a *API) createSession(w http.ResponseWriter, r *http.Request) error {
	req, err := a.decodeSessionCreate(w, r)
	if err != nil {
		return err
	}
	p, err := a.plan(&req.queryRequest)
	if err != nil {
		return err
	}
	ctx := r.Context()
	now := time.Now().UTC()
	if err := a.checkRunID(ctx); err != nil {
		return err
	}
	ss := &session{id: newSessionID(), plan: p, maxHistory: defaultMaxHistory,
		idle: a.opts.SessionIdle, clients: map[chan streamed]struct{}{}, done: make(chan struct{})}
	ss.rec = agentrun.Session{ID: ss.id, Status: agentrun.SessionInitializing, SandboxProvider: sandboxProvider(req.SandboxProvider),
		CreatedAt: now, LastActivityAt: now, Owner: ownerOf(ctx)}
	if c := req.SessionConfig; c != nil {
		ss.rec.Name = c.Name
		if c.IdleTimeoutSecs != nil {
			ss.idle = time.Duration(*c.IdleTimeoutSecs) * time.Second
		}
		if c.MaxHistoryTurns != nil {
			ss.maxHistory = *c.MaxHistoryTurns
		}
	}
	ss.rec.IdleTimeoutMs = ss.idle.Milliseconds()
	if !a.sessions.add(ss, maxActiveSessions) {
		return sessionErr("SESSION_CAPACITY_EXCEEDED", "Session capacity limit reached (max %d)", maxActiveSessions)
	}
	ss.busy = true // the first turn
	a.saveSession(ctx, ss)
	sse, err := httpx.NewSSE(w)
	if err != nil {
		a.endSession(ctx, ss, agentrun.SessionFailed, "the connection cannot stream")
		return err
	}
	if err := sse.Send("session_created", sessionEvent{Type: "session_created", SessionID: ss.id,
		Content: "Session " + ss.id + " created"}); err != nil {
		a.endSession(ctx, ss, agentrun.SessionFailed, "the client went away")
		return nil
	}
	a.sessionTurn(ctx, sse, ss, p)
	return nil
}

// newSessionID is upstream's form, sess_<random>.
func newSessionID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "sess_" + hex.EncodeToString(b)
}

// sandboxProvider is what a session reports as its sandboxProvider: upstream's name, else
// the Paddock template.
func sandboxProvider(name string) string {
	if name == "" {
		return "e2b"
	}
	return name
}

// sendMessage streams the next turn of a session, in its sandbox, with its conversation.
func (a *API) sendMessage(w http.ResponseWriter, r *http.Request) error {
	ss, err := a.liveSession(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	var msg sessionMessageRequest
	if err := httpx.Decode(w, r, &msg, a.opts.MaxBodyBytes, true, false); err != nil {
		return decodeError(err)
	}
	q := *ss.plan.req
	q.Prompt, q.Files = msg.Prompt, msg.Files
	if err := q.validate(); err != nil {
		return err
	}
	if err := a.checkRunID(r.Context()); err != nil {
		return err
	}
	p := *ss.plan
	p.req = &q
	ss.mu.Lock()
	switch {
	case !ss.rec.Live():
		ss.mu.Unlock()
		return ended(&ss.rec)
	case ss.busy:
		ss.mu.Unlock()
		return sessionErr("SESSION_BUSY", "Session %s is busy", ss.id)
	}
	ss.busy = true
	ss.mu.Unlock()
	sse, err := httpx.NewSSE(w)
	if err != nil {
		a.release(r.Context(), ss, nil, nil)
		return err
	}
	a.sessionTurn(r.Context(), sse, ss, &p)
	return nil
}

// findSession returns the record of a session the caller may see (another user's is not
// found) and, if it is live in this server, the session.
func (a *API) findSession(ctx context.Context, id string) (*agentrun.Session, *session, error) {
	notFound := sessionErr("SESSION_NOT_FOUND", "Session %s not found", id)
	rec, err := a.store.GetAgentSession(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil, nil, notFound
	}
	if err != nil {
		return nil, nil, err
	}
	if owner := manager.RunOwner(ctx); owner != "" && rec.Owner != owner {
		return nil, nil, notFound
	}
	ss := a.sessions.get(id)
	if ss != nil {
		ss.mu.Lock()
		*rec = ss.rec
		ss.mu.Unlock()
	}
	return rec, ss, nil
}

// liveSession is findSession for a session that must still take messages.
func (a *API) liveSession(ctx context.Context, id string) (*session, error) {
	rec, ss, err := a.findSession(ctx, id)
	if err != nil {
		return nil, err
	}
	if ss == nil || !rec.Live() {
		if rec.Live() { // recorded live, yet not in this server: it never will be again
			rec.Status, rec.EndReason = agentrun.SessionEnded, msgRestarted
		}
		return nil, ended(rec)
	}
	return ss, nil
}

// ended is the 410 of a session that takes no more messages.
func ended(rec *agentrun.Session) error {
	what := "ended"
	if rec.Status == agentrun.SessionExpired {
		what = "expired"
	}
	msg := fmt.Sprintf("Session %s %s", rec.ID, what)
	if rec.EndReason != "" {
		msg = fmt.Sprintf("session %s: %s", what, rec.EndReason)
	}
	return sessionErr("SESSION_EXPIRED", "%s", msg)
}

// sessionDetail is GET /sessions/{id}: upstream's Session.
type sessionDetail struct {
	agentrun.Session
	Runs []sessionRun `json:"runs"`
}

type sessionRun struct {
	ID           string    `json:"id"`
	Prompt       string    `json:"prompt"`
	StartedAt    time.Time `json:"startedAt"`
	CostUSD      float64   `json:"costUsd"`
	NumTurns     int       `json:"numTurns"`
	DurationSecs float64   `json:"durationSecs"`
	Status       string    `json:"status"`
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request) error {
	rec, _, err := a.findSession(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	runs, err := a.store.ListAgentRuns(r.Context(), agentrun.Filter{Session: rec.ID, Limit: maxRuns})
	if err != nil {
		return err
	}
	d := sessionDetail{Session: *rec, Runs: []sessionRun{}}
	for i := len(runs) - 1; i >= 0; i-- { // oldest first, as upstream
		run := runs[i]
		if lr := a.live.get(run.ID); lr != nil {
			run, _ = lr.snapshot()
		}
		d.Runs = append(d.Runs, sessionRun{ID: run.ID, Prompt: run.Prompt, StartedAt: run.StartedAt, CostUSD: run.CostUSD,
			NumTurns: run.NumTurns, DurationSecs: run.DurationSecs, Status: run.Status})
	}
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) error {
	limit := defaultSessionList
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxRuns {
			return fieldErr("limit", "must be an integer from 1 to %d", maxRuns)
		}
		limit = n
	}
	list, err := a.store.ListAgentSessions(r.Context(), manager.RunOwner(r.Context()), false, limit)
	if err != nil {
		return err
	}
	for i := range list {
		if ss := a.sessions.get(list[i].ID); ss != nil {
			ss.mu.Lock()
			list[i] = ss.rec
			ss.mu.Unlock()
		}
	}
	httpx.WriteJSON(w, http.StatusOK, list)
	return nil
}

// deleteSession ends a session and deletes its sandbox: 204, also when it had ended.
func (a *API) deleteSession(w http.ResponseWriter, r *http.Request) error {
	_, ss, err := a.findSession(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if ss != nil {
		a.endSession(r.Context(), ss, agentrun.SessionEnded, "deleted")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sessionEvents attaches to a live session: every event of its turns from now on, a ping
// every 15 s, and session_expired when it ends (then the stream ends).
func (a *API) sessionEvents(w http.ResponseWriter, r *http.Request) error {
	rec, ss, err := a.findSession(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if ss == nil || !rec.Live() {
		return sessionErr("SESSION_NOT_FOUND", "Session %s not found", rec.ID)
	}
	c := make(chan streamed, 256)
	ss.mu.Lock()
	if !ss.rec.Live() {
		ss.mu.Unlock()
		return sessionErr("SESSION_NOT_FOUND", "Session %s not found", rec.ID)
	}
	ss.clients[c] = struct{}{}
	ss.mu.Unlock()
	defer func() {
		ss.mu.Lock()
		if _, ok := ss.clients[c]; ok {
			delete(ss.clients, c)
			close(c)
		}
		ss.mu.Unlock()
	}()
	sse, err := httpx.NewSSE(w)
	if err != nil {
		return err
	}
	ping := time.NewTicker(a.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-ping.C:
			if sse.Send("ping", map[string]string{"type": "ping"}) != nil {
				return nil
			}
		case ev, ok := <-c:
			if !ok || sse.Send(ev.name, ev.v) != nil || ev.name == "session_expired" {
				return nil
			}
		}
	}
}
