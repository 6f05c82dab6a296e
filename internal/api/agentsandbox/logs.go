package agentsandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
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

// logs is the sandbox's log: one line per event of its audit trail (created, started,
// stopped, commands and their exit codes, file writes, start-command failures with the tail
// of their output), the last tailLines of them.
func (a *API) logs(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.sandboxNamed(r)
	if err != nil {
		return err
	}
	tail, err := positive(r.URL.Query().Get("tailLines"), "tailLines", defaultTailLines, maxTailLines)
	if err != nil {
		return err
	}
	evs, err := a.opts.Events.ListEvents(r.Context(), audit.Filter{Sandbox: sb.Name, Limit: maxScan})
	if err != nil {
		return err
	}
	var lines []string
	for _, e := range evs {
		lines = append(lines, logLines(e)...)
	}
	if len(lines) > tail {
		lines = lines[len(lines)-tail:]
	}
	text := strings.Join(lines, "\n")
	if text != "" {
		text += "\n"
	}
	return ok(w, logsResult{Sandbox: sb.Name, Pod: sb.ID, Container: container, Logs: text, FetchedAt: time.Now().UTC()})
}

// logLines renders one audit event: a line with its time, type and details, then the
// output it carries, if any, one line each.
func logLines(e audit.Event) []string {
	details := map[string]any{}
	var output string
	for k, v := range e.Details {
		if k == "output" {
			output, _ = v.(string)
			continue
		}
		details[k] = v
	}
	line := e.Time.UTC().Format(time.RFC3339Nano) + " " + e.Type
	if len(details) > 0 {
		b, _ := json.Marshal(details)
		line += " " + string(b)
	}
	out := []string{line}
	if output = strings.TrimRight(output, "\n"); output != "" {
		out = append(out, strings.Split(output, "\n")...)
	}
	return out
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
