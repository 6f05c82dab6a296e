package sandcaster

// This file is the life of a live session: its turns, its sandbox, its idle expiry and its end.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/agent"
	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// session is a live session: its record, its sandbox and its conversation. mu guards every
// field but id.
type session struct {
	id         string
	mu         sync.Mutex
	rec        agentrun.Session
	plan       *plan // the first request's, apiKeys included (held in memory only)
	sb         *sandbox.Sandbox
	history    []agent.Message
	maxHistory int
	idle       time.Duration
	timer      *time.Timer                // idle expiry; stopped while a turn runs
	busy       bool                       // a turn is running
	cancel     context.CancelCauseFunc    // the running turn's
	clients    map[chan streamed]struct{} // attached GET /events streams
	done       chan struct{}              // closed when the session ends
}

// sessionSet holds the live sessions by ID. Safe for concurrent use.
type sessionSet struct {
	mu   sync.Mutex
	byID map[string]*session
}

func (s *sessionSet) get(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id]
}

// add registers ss unless there are max live sessions already.
func (s *sessionSet) add(ss *session, max int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= max {
		return false
	}
	if s.byID == nil {
		s.byID = map[string]*session{}
	}
	s.byID[ss.id] = ss
	return true
}

func (s *sessionSet) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

func (s *sessionSet) all() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*session, 0, len(s.byID))
	for _, ss := range s.byID {
		out = append(out, ss)
	}
	return out
}

// sessionTurn runs one turn (the caller set ss.busy): the session's sandbox is made on the
// first one. Every event goes to the caller's stream, to the run's log and to attached
// streams.
func (a *API) sessionTurn(ctx context.Context, sse *httpx.SSE, ss *session, p *plan) {
	start := time.Now()
	ctx, cancelCause := context.WithCancelCause(ctx)
	defer cancelCause(nil)
	ss.mu.Lock()
	ss.cancel = cancelCause
	ss.stopTimer()
	ss.rec.Status = agentrun.SessionRunning
	history, sb := ss.history, ss.sb
	ss.mu.Unlock()
	a.saveSession(ctx, ss)
	lr := a.startRun(ctx, agentrun.Run{ID: httpx.RequestID(ctx), Prompt: p.req.Prompt, Model: p.model,
		StartedAt: start.UTC(), FilesCount: len(p.req.Files), Owner: ss.owner(), SessionID: ss.id}, cancelCause)
	emit := func(ev agent.Event) error {
		lr.record(ev)
		ss.broadcast(streamed{ev.Type, ev})
		return sse.Send(ev.Type, ev)
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var res agent.Result
	var err error
	if sb == nil {
		sb, err = a.sessionSandbox(ctx, ss, p, emit)
	}
	if sb != nil {
		a.setSandbox(ctx, lr, sb)
		res, err = a.turn(ctx, p, sb, history, emit)
	}
	rec := a.end(ctx, lr, start, res, err, emit)
	if sb == nil {
		a.endSession(ctx, ss, agentrun.SessionFailed, "its sandbox could not be made")
		return
	}
	var conv []agent.Message
	if err == nil {
		conv = trimHistory(res.Messages, ss.maxHistory)
	}
	a.release(ctx, ss, &rec, conv)
}

// sessionSandbox makes the session's sandbox on its first turn.
func (a *API) sessionSandbox(ctx context.Context, ss *session, p *plan, emit func(agent.Event) error) (*sandbox.Sandbox, error) {
	sp := *p
	sp.timeout = p.timeout + ss.idle // the TTL is only a backstop: the idle timer deletes it
	sb, err := a.createSandbox(ctx, &sp, map[string]string{LabelSession: ss.id})
	if err != nil {
		return nil, fmt.Errorf("create sandbox: %w", err)
	}
	ss.mu.Lock()
	ss.sb = sb
	name := sb.Name
	ss.rec.SandboxID = &name
	ended := !ss.rec.Live()
	ss.mu.Unlock()
	if ended { // deleted while the sandbox was being made
		a.deleteSandbox(ctx, sb.ID)
		return nil, errors.New("session ended")
	}
	a.saveSession(ctx, ss)
	return sb, emit(agent.Event{Type: agent.EventSystem, Subtype: "sandbox_created", Content: "Sandbox created", SandboxID: sb.Name})
}

// release ends a turn: the run's totals and the new conversation (nil: unchanged, the turn
// failed) are kept, and the idle timer starts again.
func (a *API) release(ctx context.Context, ss *session, run *agentrun.Run, conv []agent.Message) {
	ss.mu.Lock()
	ss.busy, ss.cancel = false, nil
	if run != nil {
		ss.rec.RunsCount++
		ss.rec.TotalCostUSD += run.CostUSD
		ss.rec.TotalTurns += run.NumTurns
	}
	if conv != nil {
		ss.history = conv
	}
	ss.rec.LastActivityAt = time.Now().UTC()
	live := ss.rec.Live()
	if live {
		ss.rec.Status = agentrun.SessionActive
		ss.timer = time.AfterFunc(ss.idle, func() { a.expire(ss) })
	}
	ss.mu.Unlock()
	a.saveSession(ctx, ss)
	if sb := ss.sandbox(); live && sb != nil {
		// The sandbox outlives the next idle period by the turn timeout, as a backstop.
		at := time.Now().Add(ss.idle + ss.plan.timeout + ttlSlack)
		if _, err := a.m.SetExpiry(context.WithoutCancel(ctx), sb.ID, at); err != nil && !errdefs.IsNotFound(err) {
			a.log.Warn("session: extend sandbox", "sandbox", sb.Name, "err", err)
		}
	}
}

// expire ends a session idle for its timeout.
func (a *API) expire(ss *session) {
	ss.mu.Lock()
	busy := ss.busy
	ss.mu.Unlock()
	if busy { // a turn started as the timer fired; release starts it again
		return
	}
	a.endSession(context.Background(), ss, agentrun.SessionExpired,
		fmt.Sprintf("idle for %s", ss.idle))
}

// endSession ends a live session with status and reason: its running turn is cancelled,
// its sandbox deleted, attached streams told. Ending an ended session does nothing.
func (a *API) endSession(ctx context.Context, ss *session, status, reason string) {
	ss.mu.Lock()
	if !ss.rec.Live() {
		ss.mu.Unlock()
		return
	}
	ss.stopTimer()
	ss.rec.Status, ss.rec.EndReason = status, reason
	ss.rec.LastActivityAt = time.Now().UTC()
	if ss.cancel != nil {
		ss.cancel(errSessionEnded)
	}
	sb := ss.sb
	ss.history = nil
	ss.mu.Unlock()
	if sb != nil {
		a.deleteSandbox(ctx, sb.ID)
	}
	a.saveSession(ctx, ss)
	what := "ended"
	if status == agentrun.SessionExpired {
		what = "expired"
	}
	ss.broadcast(streamed{"session_expired", sessionEvent{Type: "session_expired", SessionID: ss.id,
		Content: fmt.Sprintf("Session %s %s: %s", ss.id, what, reason)}})
	close(ss.done)
	a.sessions.remove(ss.id)
}

// errSessionEnded cancels a session's running turn when the session ends.
var errSessionEnded = errors.New("the session ended")

func (a *API) saveSession(ctx context.Context, ss *session) {
	ss.mu.Lock()
	rec := ss.rec
	ss.mu.Unlock()
	if err := a.store.PutAgentSession(context.WithoutCancel(ctx), &rec); err != nil {
		a.log.Error("record session", "session", ss.id, "err", err)
	}
}

func (ss *session) owner() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.rec.Owner
}

func (ss *session) sandbox() *sandbox.Sandbox {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.sb
}

// stopTimer stops the idle timer; ss.mu is held.
func (ss *session) stopTimer() {
	if ss.timer != nil {
		ss.timer.Stop()
		ss.timer = nil
	}
}

// broadcast hands ev to every attached stream; one that has fallen 256 events behind is
// dropped (its stream ends).
func (ss *session) broadcast(ev streamed) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for c := range ss.clients {
		select {
		case c <- ev:
		default:
			delete(ss.clients, c)
			close(c)
		}
	}
}

// trimHistory keeps at most limit messages of a conversation, cutting only before a prompt (a
// user message with text), so that no tool result loses its call. The newest exchange is
// kept whole even when it alone is longer.
func trimHistory(msgs []agent.Message, limit int) []agent.Message {
	if len(msgs) <= limit {
		return msgs
	}
	cut := -1
	for i := len(msgs) - limit; i < len(msgs); i++ {
		if msgs[i].Role == agent.RoleUser && msgs[i].Text != "" {
			cut = i
			break
		}
	}
	if cut < 0 {
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].Role == agent.RoleUser && msgs[i].Text != "" {
				cut = i
				break
			}
		}
	}
	return append([]agent.Message(nil), msgs[max(cut, 0):]...)
}

// recoverSessions ends the sessions a previous server left live: their conversation was in
// its memory. Their sandboxes are deleted.
func (a *API) recoverSessions(ctx context.Context) error {
	list, err := a.store.ListAgentSessions(ctx, "", true, 0)
	if err != nil {
		return err
	}
	for _, rec := range list {
		if rec.SandboxID != nil {
			if err := a.m.Delete(ctx, *rec.SandboxID); err != nil && !errdefs.IsNotFound(err) {
				a.log.Warn("session: delete the sandbox of a session the restart ended", "session", rec.ID, "sandbox", *rec.SandboxID, "err", err)
			}
		}
		rec.Status, rec.EndReason = agentrun.SessionEnded, msgRestarted
		if err := a.store.PutAgentSession(ctx, &rec); err != nil {
			return err
		}
	}
	if len(list) > 0 {
		a.log.Info("sessions ended by a restart", "count", len(list))
	}
	return nil
}

// Close ends every live session and deletes its sandbox (the server is shutting down).
func (a *API) Close(ctx context.Context) {
	for _, ss := range a.sessions.all() {
		a.endSession(ctx, ss, agentrun.SessionEnded, "server shut down")
	}
}
