package sandcaster

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/manager"
)

// maxRuns is how many runs the log keeps (upstream keeps 200 in memory too).
const maxRuns = 200

// Run statuses.
const (
	statusRunning   = "running"
	statusCompleted = "completed"
	statusError     = "error"
)

// run is one record of GET /runs (upstream's RunSchema plus tokens and completedAt).
type run struct {
	ID           string     `json:"id"`
	Prompt       string     `json:"prompt"`
	Model        string     `json:"model,omitempty"`
	Status       string     `json:"status"`
	StartedAt    time.Time  `json:"startedAt"`
	CompletedAt  *time.Time `json:"completedAt,omitempty"`
	CostUSD      float64    `json:"costUsd"`
	InputTokens  int64      `json:"inputTokens"`
	OutputTokens int64      `json:"outputTokens"`
	NumTurns     int        `json:"numTurns"`
	DurationSecs float64    `json:"durationSecs"`
	Error        string     `json:"error,omitempty"`
	FilesCount   int        `json:"filesCount"`

	owner string
}

// runLog keeps the newest runs in memory (phase 1: lost on restart). Safe for concurrent use.
type runLog struct {
	mu   sync.Mutex
	max  int
	runs []*run // oldest first
}

func newRunLog(max int) *runLog { return &runLog{max: max} }

// add records a run and returns it for updates through update.
func (l *runLog) add(r *run) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs = append(l.runs, r)
	if len(l.runs) > l.max {
		l.runs = append([]*run(nil), l.runs[len(l.runs)-l.max:]...)
	}
}

// update changes a recorded run under the log's lock.
func (l *runLog) update(r *run, f func(*run)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(r)
}

// list returns copies of owner's newest runs, newest first; owner "" lists every run
// (an admin's listing, manager.RunOwner).
func (l *runLog) list(owner string, limit int) []run {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []run{}
	for i := len(l.runs) - 1; i >= 0 && len(out) < limit; i-- {
		if owner == "" || l.runs[i].owner == owner {
			out = append(out, *l.runs[i])
		}
	}
	return out
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
	httpx.WriteJSON(w, http.StatusOK, a.runs.list(manager.RunOwner(r.Context()), limit))
	return nil
}
