package sandcaster

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/agent"
	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// maxRuns is the largest limit of GET /runs.
const maxRuns = 200

// msgRestarted is the error of a run, and the end reason of a session, that the server's
// restart cut short.
const msgRestarted = "server restarted"

// errSandboxKilled is the cause of a run's cancellation when a webhook reports its sandbox
// killed from outside.
var errSandboxKilled = errors.New("the run's sandbox was killed from outside")

// liveRun is a run in progress in this server: its record and event log as they grow, and
// how to stop it. Safe for concurrent use.
type liveRun struct {
	mu     sync.Mutex
	rec    agentrun.Run
	evs    []json.RawMessage
	size   int
	sbID   string                  // the sandbox's ID (rec.Sandbox is its name)
	cancel context.CancelCauseFunc // stops the run (a webhook reports its sandbox killed)
}

// record appends ev (an event as the stream sends it) to the log, trimming it to its
// bounds now and then.
func (l *liveRun) record(ev any) {
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, b)
	l.size += len(b)
	if len(l.evs) > 2*agentrun.MaxEvents || l.size > 2*agentrun.MaxLogBytes {
		l.evs, _ = agentrun.Bound(l.evs)
		l.size = 0
		for _, e := range l.evs {
			l.size += len(e)
		}
	}
}

func (l *liveRun) snapshot() (agentrun.Run, []json.RawMessage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs, _ := agentrun.Bound(l.evs)
	return l.rec, append([]json.RawMessage(nil), evs...)
}

// liveRuns are the runs in progress, by ID. Safe for concurrent use.
type liveRuns struct {
	mu   sync.Mutex
	byID map[string]*liveRun
}

func (l *liveRuns) get(id string) *liveRun {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byID[id]
}

func (l *liveRuns) put(r *liveRun) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byID == nil {
		l.byID = map[string]*liveRun{}
	}
	l.byID[r.rec.ID] = r
}

func (l *liveRuns) remove(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byID, id)
}

// bySandbox returns the runs whose sandbox is name (its name or its ID).
func (l *liveRuns) bySandbox(name string) []*liveRun {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*liveRun
	for _, r := range l.byID {
		r.mu.Lock()
		if name != "" && (r.rec.Sandbox == name || r.sbID == name) {
			out = append(out, r)
		}
		r.mu.Unlock()
	}
	return out
}

// startRun records rec as running and returns it live; emit events through it.
func (a *API) startRun(ctx context.Context, rec agentrun.Run, cancel context.CancelCauseFunc) *liveRun {
	rec.Status = agentrun.StatusRunning
	lr := &liveRun{rec: rec, cancel: cancel}
	a.live.put(lr)
	if err := a.store.PutAgentRun(context.WithoutCancel(ctx), &rec); err != nil {
		a.log.Error("record run", "req", rec.ID, "err", err)
	}
	return lr
}

// setSandbox notes the run's sandbox, once it is made.
func (a *API) setSandbox(ctx context.Context, lr *liveRun, sb *sandbox.Sandbox) {
	lr.mu.Lock()
	lr.rec.Sandbox, lr.sbID = sb.Name, sb.ID
	rec := lr.rec
	lr.mu.Unlock()
	if err := a.store.PutAgentRun(context.WithoutCancel(ctx), &rec); err != nil {
		a.log.Error("record run", "req", rec.ID, "err", err)
	}
}

// finishRun records how the run ended and its event log, and forgets it as live.
func (a *API) finishRun(ctx context.Context, lr *liveRun, res agent.Result, dur time.Duration, errMsg string) agentrun.Run {
	cost, _ := a.catalog.Cost(lr.rec.Model, res.InputTokens, res.OutputTokens)
	now := time.Now().UTC()
	lr.mu.Lock()
	r := &lr.rec
	r.Status, r.Error = agentrun.StatusCompleted, errMsg
	if errMsg != "" {
		r.Status = agentrun.StatusError
	}
	r.CompletedAt, r.DurationSecs, r.CostUSD = &now, dur.Seconds(), cost
	r.InputTokens, r.OutputTokens, r.NumTurns = res.InputTokens, res.OutputTokens, res.NumTurns
	lr.mu.Unlock()
	rec, evs := lr.snapshot()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := a.store.PutAgentRun(ctx, &rec); err != nil {
		a.log.Error("record run", "req", rec.ID, "err", err)
	} else if err := a.store.SetAgentRunEvents(ctx, rec.ID, evs); err != nil {
		a.log.Error("record run events", "req", rec.ID, "err", err)
	}
	a.live.remove(rec.ID)
	return rec
}

// recoverRuns marks the runs a previous server left running as ended by its restart.
func (a *API) recoverRuns(ctx context.Context) error {
	n, err := a.store.FailRunningAgentRuns(ctx, msgRestarted, time.Now().UTC())
	if n > 0 {
		a.log.Info("runs cut short by a restart marked as errors", "count", n)
	}
	return err
}

func (a *API) listRuns(w http.ResponseWriter, r *http.Request) error {
	limit := 20
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxRuns {
			return fieldErr("limit", "must be an integer from 1 to %d", maxRuns)
		}
		limit = n
	}
	runs, err := a.store.ListAgentRuns(r.Context(), agentrun.Filter{Owner: manager.RunOwner(r.Context()), Limit: limit})
	if err != nil {
		return err
	}
	for i := range runs {
		if lr := a.live.get(runs[i].ID); lr != nil {
			runs[i], _ = lr.snapshot()
		}
	}
	httpx.WriteJSON(w, http.StatusOK, runs)
	return nil
}

// runDetail is GET /runs/{id}: the run and its event log (the newest events, bounded).
type runDetail struct {
	agentrun.Run
	Events []json.RawMessage `json:"events"`
}

func (a *API) getRun(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	rec, err := a.ownRun(r.Context(), id)
	if err != nil {
		return err
	}
	var evs []json.RawMessage
	if lr := a.live.get(id); lr != nil {
		*rec, evs = lr.snapshot()
	} else if evs, err = a.store.AgentRunEvents(r.Context(), id); err != nil {
		return err
	}
	if evs == nil {
		evs = []json.RawMessage{}
	}
	httpx.WriteJSON(w, http.StatusOK, runDetail{Run: *rec, Events: evs})
	return nil
}

// ownRun finds a run the caller may see: another user's is not found.
func (a *API) ownRun(ctx context.Context, id string) (*agentrun.Run, error) {
	rec, err := a.store.GetAgentRun(ctx, id)
	if err != nil {
		return nil, err
	}
	if owner := manager.RunOwner(ctx); owner != "" && rec.Owner != owner {
		return nil, errdefs.NotFound("run %q not found", id)
	}
	return rec, nil
}

// checkRunID refuses a request whose ID (a caller may choose it with X-Request-Id) names a
// recorded run: run IDs are request IDs, and one run must not replace another.
func (a *API) checkRunID(ctx context.Context) error {
	id := httpx.RequestID(ctx)
	_, err := a.store.GetAgentRun(ctx, id)
	switch {
	case err == nil || a.live.get(id) != nil:
		return errdefs.AlreadyExists("X-Request-Id %q names an earlier run: send a new one or none", id)
	case errdefs.IsNotFound(err):
		return nil
	}
	return err
}
