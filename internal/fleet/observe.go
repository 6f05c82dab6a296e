package fleet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/template"
)

// liveLog reads the log ring of a running agent's sandbox (nil when it does not run).
func (s *Service) liveLog(ctx context.Context, a *Agent) []byte {
	ls, err := s.m.Logs(manager.AsSystem(ctx), a.SandboxID, 0, false)
	if err != nil {
		return nil
	}
	defer ls.Close()
	var buf bytes.Buffer
	for {
		l, err := ls.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.log.Warn("read agent log", "agent", a.ID, "err", err)
			}
			return buf.Bytes()
		}
		buf.WriteString(l.Text)
		if !strings.HasSuffix(l.Text, "\n") {
			buf.WriteByte('\n')
		}
	}
}

// saveLog copies the guest's log ring into the agent's bounded saved log before its sandbox
// stops or goes: the ring starts empty with every start.
func (s *Service) saveLog(ctx context.Context, a *Agent) {
	live := s.liveLog(ctx, a)
	if len(live) == 0 {
		return
	}
	if err := s.store.AppendAgentLog(ctx, a.ID, live, s.opts.LogBytes); err != nil {
		s.log.Error("save agent log", "agent", a.ID, "err", err)
	}
}

// Logs answers the last tail lines of the runtime's output: what earlier runs saved, then
// what the running sandbox has written since it started.
func (s *Service) Logs(ctx context.Context, name string, tail int) (string, error) {
	a, _, err := s.get(ctx, name, AccessUse)
	if err != nil {
		return "", err
	}
	saved, err := s.store.AgentLog(ctx, a.ID)
	if err != nil {
		return "", err
	}
	all := append(append([]byte(nil), saved...), s.liveLog(ctx, a)...)
	lines := strings.SplitAfter(string(all), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	if tail > 0 && len(lines) > tail {
		lines = lines[len(lines)-tail:]
	}
	return strings.Join(lines, ""), nil
}

// Stats is an agent's live telemetry (upstream's fields).
type Stats struct {
	CPUPercent       float64 `json:"cpu_percent"`
	MemoryUsedBytes  uint64  `json:"memory_used_bytes"`
	MemoryLimitBytes uint64  `json:"memory_limit_bytes"`
	MemoryPercent    float64 `json:"memory_percent"`
	NetworkRxBytes   uint64  `json:"network_rx_bytes"`
	NetworkTxBytes   uint64  `json:"network_tx_bytes"`
	UptimeSeconds    int64   `json:"uptime_seconds"`
	Status           string  `json:"status"`
}

// Stats reads the sandbox's cgroup twice, StatsInterval apart, for a CPU percentage (of one
// CPU, as Docker counts), and reports memory without page cache and network counters.
func (s *Service) Stats(ctx context.Context, name string) (*Stats, error) {
	a, _, err := s.get(ctx, name, AccessUse)
	if err != nil {
		return nil, err
	}
	sys := manager.AsSystem(ctx)
	sb, err := s.m.Get(sys, a.SandboxID)
	if err != nil {
		return nil, err
	}
	if sb.State != sandbox.StateRunning {
		return nil, errdefs.InvalidArgument("agent %q is not running", a.Name)
	}
	first, err := s.m.Stats(sys, a.SandboxID)
	if err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(s.opts.StatsInterval):
	}
	second, err := s.m.Stats(sys, a.SandboxID)
	if err != nil {
		return nil, err
	}
	out := &Stats{Status: "running", MemoryLimitBytes: second.MemoryLimit}
	if wall := second.Time.Sub(first.Time); wall > 0 && second.CPUUsageNs >= first.CPUUsageNs {
		out.CPUPercent = round1(float64(second.CPUUsageNs-first.CPUUsageNs) / float64(wall.Nanoseconds()) * 100)
	}
	out.MemoryUsedBytes = second.MemoryBytes
	if second.MemoryCache < second.MemoryBytes {
		out.MemoryUsedBytes -= second.MemoryCache
	}
	if second.MemoryLimit > 0 {
		out.MemoryPercent = round1(float64(out.MemoryUsedBytes) / float64(second.MemoryLimit) * 100)
	}
	if second.Net != nil {
		out.NetworkRxBytes, out.NetworkTxBytes = second.Net.RxBytes, second.Net.TxBytes
	}
	if sb.StartedAt != nil {
		out.UptimeSeconds = int64(s.opts.Now().Sub(*sb.StartedAt).Seconds())
	}
	return out, nil
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// Info is GET .../info: the agent's runtime template metadata.
type Info struct {
	HasTemplate  bool              `json:"has_template"`
	AgentName    string            `json:"agent_name"`
	TemplateName string            `json:"template_name"`
	Type         string            `json:"type"`
	Resources    Resources         `json:"resources"`
	Status       string            `json:"status"`
	Runtime      string            `json:"runtime"`
	RuntimeModel string            `json:"runtime_model,omitempty"`
	Image        string            `json:"image,omitempty"`
	Description  string            `json:"description,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// Info answers the agent's template metadata (from the server's templates: no need for the
// agent to run).
func (s *Service) Info(ctx context.Context, name string) (*Info, error) {
	a, _, err := s.get(ctx, name, AccessUse)
	if err != nil {
		return nil, err
	}
	t, err := s.runtime(ctx, a.Runtime)
	if err != nil {
		t = template.Template{Name: a.Runtime}
	}
	return &Info{HasTemplate: a.Template != "", AgentName: a.Name, TemplateName: a.Template, Type: a.Type,
		Resources: a.Resources, Status: s.Status(ctx, a), Runtime: a.Runtime, RuntimeModel: a.RuntimeModel,
		Image: t.Image, Description: t.Description, Metadata: t.Metadata}, nil
}

// ContextStat is one agent's context use (upstream's camelCase fields).
type ContextStat struct {
	Name             string  `json:"name"`
	Status           string  `json:"status"`
	ActivityState    string  `json:"activityState"`
	ContextPercent   float64 `json:"contextPercent"`
	ContextUsed      int64   `json:"contextUsed"`
	ContextMax       int     `json:"contextMax"`
	LastActivityTime *string `json:"lastActivityTime"`
}

// ContextWindow is the context window agents are counted against (upstream's default).
const ContextWindow = 200000

// ContextStats answers every visible agent's context use, from the Sandcaster runs recorded
// in its sandbox (the input tokens of the latest one fill the context), and the source.
func (s *Service) ContextStats(ctx context.Context) ([]ContextStat, string, error) {
	agents, err := s.List(ctx, nil)
	if err != nil {
		return nil, "", err
	}
	source := "none: this server keeps no agent runs"
	if s.opts.Runs != nil {
		source = "agentrun: Sandcaster runs recorded in each agent's sandbox (none yet is zeros)"
	}
	out := []ContextStat{}
	for _, a := range agents {
		st := ContextStat{Name: a.Name, Status: s.Status(ctx, a), ActivityState: "offline", ContextMax: ContextWindow}
		if st.Status == "running" {
			st.ActivityState = "idle"
		}
		if s.opts.Runs != nil {
			if err := s.fillContext(ctx, a, &st); err != nil {
				return nil, "", err
			}
		}
		out = append(out, st)
	}
	return out, source, nil
}

func (s *Service) fillContext(ctx context.Context, a *Agent, st *ContextStat) error {
	runs, err := s.opts.Runs.ListAgentRuns(ctx, agentrun.Filter{Owner: a.Owner, Limit: 200})
	if err != nil {
		return err
	}
	sbName := sandboxName(a.ID)
	for _, r := range runs { // newest first
		if r.Sandbox != sbName {
			continue
		}
		t := r.StartedAt.UTC().Format(time.RFC3339)
		st.LastActivityTime = &t
		st.ContextUsed = r.InputTokens
		st.ContextPercent = round1(float64(r.InputTokens) / ContextWindow * 100)
		if r.Status == agentrun.StatusRunning {
			st.ActivityState = "active"
		}
		return nil
	}
	return nil
}
