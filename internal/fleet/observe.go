package fleet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/template"

	fspb "github.com/paddock/paddock/proto/filesystem"
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

// File is one entry of a workspace tree (upstream's fields).
type File struct {
	Name      string `json:"name"`
	Path      string `json:"path"` // relative to the workspace
	Type      string `json:"type"` // file or directory
	Size      int64  `json:"size,omitempty"`
	Modified  string `json:"modified,omitempty"`
	Children  []File `json:"children,omitempty"`
	FileCount int    `json:"file_count,omitempty"`
}

// Tree bounds.
const (
	TreeDepth   = 6
	TreeEntries = 5000
)

// Tree is GET .../files: the workspace below dir, hidden entries left out, at most TreeDepth
// levels and TreeEntries entries (Truncated says when more exist).
type Tree struct {
	BasePath      string `json:"base_path"`
	RequestedPath string `json:"requested_path"`
	Tree          []File `json:"tree"`
	TotalFiles    int    `json:"total_files"`
	Truncated     bool   `json:"truncated"`
}

// inWorkspace resolves p (absolute, or relative to the workspace) and refuses what is not
// inside it.
func (s *Service) inWorkspace(field, p string) (string, error) {
	ws := s.opts.Workspace
	if p == "" {
		return ws, nil
	}
	if !path.IsAbs(p) {
		p = path.Join(ws, p)
	}
	p = path.Clean(p)
	if p != ws && !strings.HasPrefix(p, ws+"/") {
		return "", errdefs.New(errdefs.ErrPermissionDenied, "%s: access denied: only %s is accessible", field, ws)
	}
	return p, nil
}

// running returns an agent the caller may use whose sandbox runs.
func (s *Service) running(ctx context.Context, name, what string) (*Agent, error) {
	a, _, err := s.get(ctx, name, AccessUse)
	if err != nil {
		return nil, err
	}
	if sb := s.Sandbox(ctx, a); sb == nil || sb.State != sandbox.StateRunning {
		return nil, errdefs.InvalidArgument("agent must be running to %s", what)
	}
	return a, nil
}

// Files lists an agent's workspace (or dir inside it) as a tree.
func (s *Service) Files(ctx context.Context, name, dir string) (*Tree, error) {
	dir, err := s.inWorkspace("path", dir)
	if err != nil {
		return nil, err
	}
	a, err := s.running(ctx, name, "browse files")
	if err != nil {
		return nil, err
	}
	entries, err := s.m.ListFiles(manager.AsSystem(ctx), a.SandboxID, dir, "", TreeDepth)
	if err != nil {
		return nil, err
	}
	t := &Tree{BasePath: s.opts.Workspace, RequestedPath: ".", Tree: []File{}}
	if dir != s.opts.Workspace {
		t.RequestedPath = strings.TrimPrefix(dir, s.opts.Workspace+"/")
	}
	t.Tree, t.TotalFiles, t.Truncated = s.tree(entries, dir)
	return t, nil
}

// tree builds the nested entries below dir from the guest's flat listing.
func (s *Service) tree(entries []*fspb.EntryInfo, dir string) ([]File, int, bool) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].GetPath() < entries[j].GetPath() })
	byDir := map[string][]*fspb.EntryInfo{}
	n, truncated := 0, false
	for _, e := range entries {
		rel := strings.TrimPrefix(e.GetPath(), dir+"/")
		if rel == e.GetPath() || hidden(rel) {
			continue
		}
		if n == TreeEntries {
			truncated = true
			break
		}
		n++
		byDir[path.Dir(e.GetPath())] = append(byDir[path.Dir(e.GetPath())], e)
	}
	var build func(d string) ([]File, int)
	build = func(d string) ([]File, int) {
		out, files := []File{}, 0
		for _, e := range byDir[d] {
			f := File{Name: e.GetName(), Path: strings.TrimPrefix(e.GetPath(), s.opts.Workspace+"/")}
			if mt := e.GetModifiedTime(); mt != nil {
				f.Modified = mt.AsTime().UTC().Format(time.RFC3339)
			}
			if e.GetType() == fspb.FileType_FILE_TYPE_DIRECTORY {
				f.Type = "directory"
				f.Children, f.FileCount = build(e.GetPath())
				files += f.FileCount
			} else {
				f.Type, f.Size = "file", e.GetSize()
				files++
			}
			out = append(out, f)
		}
		sort.SliceStable(out, func(i, j int) bool {
			if (out[i].Type == "directory") != (out[j].Type == "directory") {
				return out[i].Type == "directory"
			}
			return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name)
		})
		return out, files
	}
	t, files := build(dir)
	return t, files, truncated
}

func hidden(rel string) bool {
	for _, el := range strings.Split(rel, "/") {
		if strings.HasPrefix(el, ".") {
			return true
		}
	}
	return false
}

// Download streams a file of the agent's workspace; the caller closes it.
func (s *Service) Download(ctx context.Context, name, p string) (io.ReadCloser, string, error) {
	if p == "" {
		return nil, "", fieldError("path", "is required")
	}
	full, err := s.inWorkspace("path", p)
	if err != nil {
		return nil, "", err
	}
	a, err := s.running(ctx, name, "download files")
	if err != nil {
		return nil, "", err
	}
	rc, err := s.m.ReadFile(manager.AsSystem(ctx), a.SandboxID, full, "")
	return rc, path.Base(full), err
}

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
	t, err := s.runtime(a.Runtime)
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
