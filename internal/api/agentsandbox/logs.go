package agentsandbox

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

// logsResult is Agent-Sandbox's SandboxLogsResult.
type logsResult struct {
	Sandbox   string    `json:"sandbox"`
	Pod       string    `json:"pod"`
	Container string    `json:"container"`
	Logs      string    `json:"logs"`
	FetchedAt time.Time `json:"fetchedAt"`
}

// Agent-Sandbox's bounds on tailLines and on a page of events.
const (
	defaultTailLines = 200
	maxTailLines     = 2000
	defaultEvents    = 100
	maxEvents        = 500
	// maxScan bounds the audit events one request reads.
	maxScan = 10000
)

// logs answers the sandbox's log, the output of its own processes (its start command), as
// Agent-Sandbox answers its pod's log: the last tailLines lines in the envelope. With
// follow=true (kubectl's name; Agent-Sandbox has no follow) it streams them as plain text
// instead, then each new line as it comes, until the client leaves.
func (a *API) logs(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.sandboxNamed(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	tail, err := positive(q.Get("tailLines"), "tailLines", defaultTailLines, maxTailLines)
	if err != nil {
		return err
	}
	follow, err := boolParam(q.Get("follow"), "follow")
	if err != nil {
		return err
	}
	stream, err := a.m.Logs(r.Context(), sb.ID, tail, follow)
	if err != nil {
		return err
	}
	defer stream.Close()
	if follow {
		return followLogs(w, r, stream)
	}
	var b strings.Builder
	for {
		l, err := stream.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return ok(w, logsResult{Sandbox: sb.Name, Pod: sb.ID, Container: container, Logs: b.String(), FetchedAt: time.Now().UTC()})
}

// followLogs streams the log as text, one line at a time, until the client leaves or the
// sandbox goes away. Once the answer has begun an error can only end it.
func followLogs(w http.ResponseWriter, r *http.Request, stream *manager.LogStream) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	for {
		l, err := stream.Next()
		if err != nil {
			return nil // the client left, or the sandbox stopped
		}
		if _, err := io.WriteString(w, l.Text+"\n"); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil || r.Context().Err() != nil {
			return nil
		}
	}
}

// boolParam parses an optional true/false query parameter.
func boolParam(s, field string) (bool, error) {
	if s == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, errdefs.InvalidArgument("invalid %s %q: use true or false", field, s)
	}
	return v, nil
}

// positive parses an optional positive count, capping it at max.
func positive(s, field string, def, max int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errdefs.InvalidArgument("invalid %s %q: use a positive integer", field, s)
	}
	if n <= 0 {
		return 0, errdefs.InvalidArgument("%s must be a positive integer", field)
	}
	return min(n, max), nil
}

// eventsResult is Agent-Sandbox's SandboxEventsResult.
type eventsResult struct {
	Items     []eventItem `json:"items"`
	FetchedAt time.Time   `json:"fetchedAt"`
}

// eventItem is Agent-Sandbox's SandboxEventItem (a Kubernetes event in its upstream).
type eventItem struct {
	Name           string         `json:"name"`
	Reason         string         `json:"reason"`
	Type           string         `json:"type"`
	Message        string         `json:"message"`
	Count          int32          `json:"count"`
	EventTime      time.Time      `json:"eventTime"`
	FirstTimestamp time.Time      `json:"firstTimestamp"`
	LastTimestamp  time.Time      `json:"lastTimestamp"`
	InvolvedObject involvedObject `json:"involvedObject"`
}

type involvedObject struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace"`
	APIVersion string `json:"apiVersion"`
	FieldPath  string `json:"fieldPath"`
}

// lifecycle are the audit events /events lists, with their reason and event type.
var lifecycle = map[string]struct{ reason, kind string }{
	audit.SandboxCreated:     {"SandboxCreated", "Normal"},
	audit.SandboxStarted:     {"SandboxStarted", "Normal"},
	audit.SandboxStopped:     {"SandboxStopped", "Normal"},
	audit.SandboxRemoved:     {"SandboxDeleted", "Normal"},
	audit.SandboxExpired:     {"ScaleDownTimeout", "Normal"},
	audit.SandboxFailed:      {"SandboxFailed", "Warning"},
	audit.StartCommandFailed: {"StartCommandFailed", "Warning"},
	audit.PolicyViolation:    {"PolicyViolation", "Warning"},
}

// events lists sandbox lifecycle events, newest first: ?sandbox= one sandbox's, ?limit=
// how many (default 100, at most 500).
func (a *API) events(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := positive(strings.TrimSpace(q.Get("limit")), "limit", defaultEvents, maxEvents)
	if err != nil {
		return err
	}
	scope, err := a.m.EventScope(r.Context())
	if err != nil {
		return err
	}
	evs, err := a.opts.Events.ListEvents(r.Context(), audit.Filter{Sandbox: strings.TrimSpace(q.Get("sandbox")), Limit: maxScan, Scope: scope})
	if err != nil {
		return err
	}
	items := []eventItem{}
	for _, e := range evs {
		l, ok := lifecycle[e.Type]
		if !ok || e.Sandbox == "" {
			continue
		}
		t := e.Time.UTC()
		items = append(items, eventItem{Name: e.Sandbox + "." + strconv.FormatInt(e.ID, 10), Reason: l.reason, Type: l.kind,
			Message: eventMessage(e), Count: 1, EventTime: t, FirstTimestamp: t, LastTimestamp: t,
			InvolvedObject: involvedObject{Kind: "Sandbox", Name: e.Sandbox, APIVersion: "paddock/v1"}})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].EventTime.After(items[j].EventTime) })
	if len(items) > limit {
		items = items[:limit]
	}
	return ok(w, eventsResult{Items: items, FetchedAt: time.Now().UTC()})
}

// eventMessage says what happened in a sentence.
func eventMessage(e audit.Event) string {
	msg := fmt.Sprintf("sandbox %s: %s", e.Sandbox, strings.ReplaceAll(strings.TrimPrefix(e.Type, "sandbox_"), "_", " "))
	for _, k := range []string{"reason", "error", "command"} {
		if v, ok := e.Details[k].(string); ok && v != "" {
			msg += fmt.Sprintf(" (%s: %s)", k, v)
		}
	}
	if e.Actor != "" {
		msg += " by " + e.Actor
	}
	return msg
}
