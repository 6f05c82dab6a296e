package credential

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paddock/paddock/internal/errdefs"
)

// Agent names the agent an operation is for: its stable ID (what the store keys on), its
// current name (what answers show) and its sandbox (what the manager is asked about). The
// sandbox must be running.
type Agent struct {
	ID      string
	Name    string
	Sandbox string
}

// Options configure a Service.
type Options struct {
	// Workspace is the directory credential paths are relative to (default Workspace).
	Workspace string
	Log       *slog.Logger
	Now       func() time.Time
}

// Service injects, reports on, exports and imports agents' credentials. Safe for concurrent
// use. Nothing it logs or returns carries a file's content: only paths and counts.
type Service struct {
	store Store
	key   Key
	in    Injector
	log   *slog.Logger
	now   func() time.Time
}

// New returns a Service keeping records in store, sealed with key, and writing files through
// sb (the manager).
func New(store Store, key Key, sb Sandbox, opts Options) *Service {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{store: store, key: key, in: Injector{Sandbox: sb, Workspace: opts.Workspace}, log: opts.Log, now: opts.Now}
}

// check validates the files of an inject or import as a whole, before anything is written,
// and returns them by clean path.
func check(files map[string]string) (map[string]string, error) {
	switch {
	case len(files) == 0:
		return nil, errdefs.InvalidArgument("files: no files provided for injection")
	case len(files) > MaxFiles:
		return nil, errdefs.InvalidArgument("files: more than %d files", MaxFiles)
	}
	out, total := map[string]string{}, 0
	for _, p := range slices.Sorted(maps.Keys(files)) {
		c, err := Clean(p)
		if err != nil {
			return nil, err
		}
		if _, dup := out[c]; dup {
			return nil, errdefs.InvalidArgument("credential path %q: given twice", c)
		}
		content := files[p]
		if !utf8.ValidString(content) {
			return nil, errdefs.InvalidArgument("credential file %s: content is not UTF-8 text", c)
		}
		if len(content) > MaxFileBytes {
			return nil, errdefs.New(errdefs.ErrTooLarge, "credential file %s is larger than %d bytes", c, MaxFileBytes)
		}
		if total += len(content); total > MaxTotal {
			return nil, errdefs.New(errdefs.ErrTooLarge, "files: more than %d bytes in all", MaxTotal)
		}
		out[c] = content
	}
	return out, nil
}

// Inject writes files into the agent's workspace (mode 0600) and remembers them, encrypted,
// for the next start. Every path is checked before anything is written.
func (s *Service) Inject(ctx context.Context, a Agent, files map[string]string) (*InjectResponse, error) {
	clean, err := check(files)
	if err != nil {
		return nil, err
	}
	paths, err := s.write(ctx, a, clean)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	recs := make([]Record, 0, len(paths))
	for _, p := range paths {
		r, err := sealRecord(s.key, a.ID, p, clean[p], now)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	if err := s.store.PutCredentials(ctx, a.ID, recs); err != nil {
		return nil, fmt.Errorf("record credentials of %s: %w", a.ID, err)
	}
	s.log.Info("credentials injected", "op", "credentials.inject", "agent", a.ID, "files", len(paths))
	return &InjectResponse{Status: "success", FilesWritten: paths,
		Message: fmt.Sprintf("Injected %d credential file(s) to agent %s", len(paths), a.Name)}, nil
}

// write writes clean files in path order and returns the paths.
func (s *Service) write(ctx context.Context, a Agent, clean map[string]string) ([]string, error) {
	paths := slices.Sorted(maps.Keys(clean))
	for _, p := range paths {
		if err := s.in.Write(ctx, a.Sandbox, p, clean[p]); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// Reinject writes every credential the agent was given into its workspace again (after a
// start) and returns InjectionSuccess, InjectionSkipped (none) or InjectionFailed with the
// error.
func (s *Service) Reinject(ctx context.Context, a Agent) (string, error) {
	recs, err := s.store.ListCredentials(ctx, a.ID)
	if err != nil {
		return InjectionFailed, fmt.Errorf("list credentials of %s: %w", a.ID, err)
	}
	if len(recs) == 0 {
		return InjectionSkipped, nil
	}
	files := make(map[string]string, len(recs))
	for _, r := range recs {
		content, err := openRecord(s.key, a.ID, r)
		if err != nil {
			return InjectionFailed, err
		}
		files[r.Path] = content
	}
	if _, err := s.write(ctx, a, files); err != nil {
		return InjectionFailed, err
	}
	s.log.Info("credentials injected again", "op", "credentials.reinject", "agent", a.ID, "files", len(files))
	return InjectionSuccess, nil
}

// injectedPaths are the paths the agent was given, by path.
func (s *Service) injectedPaths(ctx context.Context, agentID string) ([]string, error) {
	recs, err := s.store.ListCredentials(ctx, agentID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Path)
	}
	return out, nil
}

// Status reports which of the well-known files (.env, .mcp.json, .credentials.enc) and of
// the injected paths exist in the workspace, and how many KEY=VALUE lines .env holds.
func (s *Service) Status(ctx context.Context, a Agent) (*StatusResponse, error) {
	injected, err := s.injectedPaths(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	resp := &StatusResponse{AgentName: a.Name, Files: map[string]FileStatus{}}
	for _, p := range append([]string{EnvFile, MCPFile, BundleFile}, injected...) {
		if _, done := resp.Files[p]; done {
			continue
		}
		info, err := s.in.Stat(ctx, a.Sandbox, p)
		if err != nil {
			return nil, err
		}
		st := FileStatus{}
		if info != nil {
			size := info.GetSize()
			st = FileStatus{Exists: true, Size: &size}
			if m := info.GetModifiedTime(); m != nil {
				st.Modified = m.AsTime().UTC().Format(time.RFC3339)
			}
		}
		resp.Files[p] = st
	}
	if resp.Files[EnvFile].Exists {
		env, err := s.in.Read(ctx, a.Sandbox, EnvFile)
		if err != nil && !errdefs.IsNotFound(err) {
			return nil, err
		}
		resp.CredentialCount = countEnv(env)
	}
	return resp, nil
}

// countEnv counts the KEY=VALUE lines of a .env file.
func countEnv(env string) int {
	n := 0
	for _, line := range strings.Split(env, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") && strings.Contains(line, "=") {
			n++
		}
	}
	return n
}

// Export seals the agent's credential files as they are now in the workspace (.env, .mcp.json
// and every injected path that exists) into a bundle, writes it to .credentials.enc (mode
// 0600), and returns it.
func (s *Service) Export(ctx context.Context, a Agent) (*ExportResponse, error) {
	injected, err := s.injectedPaths(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	files, total := map[string]string{}, 0
	for _, p := range append([]string{EnvFile, MCPFile}, injected...) {
		if _, done := files[p]; done || p == BundleFile {
			continue
		}
		content, err := s.in.Read(ctx, a.Sandbox, p)
		if errdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if total += len(content); total > MaxTotal {
			return nil, errdefs.New(errdefs.ErrTooLarge, "credential files: more than %d bytes in all", MaxTotal)
		}
		files[p] = content
	}
	if len(files) == 0 {
		return nil, errdefs.InvalidArgument("no credential files to export (.env, .mcp.json or injected files)")
	}
	b, err := Seal(s.key, files)
	if err != nil {
		return nil, err
	}
	text, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := s.in.Write(ctx, a.Sandbox, BundleFile, string(text)+"\n"); err != nil {
		return nil, err
	}
	s.log.Info("credentials exported", "op", "credentials.export", "agent", a.ID, "files", len(files))
	return &ExportResponse{Status: "success", EncryptedFile: BundleFile, FilesExported: len(files), Bundle: &b}, nil
}

// Import decrypts a bundle (nil: the workspace's .credentials.enc) and injects its files,
// which are remembered for the next start like any inject.
func (s *Service) Import(ctx context.Context, a Agent, b *Bundle) (*ImportResponse, error) {
	source := "the bundle given"
	if b == nil {
		source = BundleFile
		text, err := s.in.Read(ctx, a.Sandbox, BundleFile)
		if errdefs.IsNotFound(err) {
			return nil, errdefs.NotFound("No %s file found", BundleFile)
		}
		if err != nil {
			return nil, err
		}
		b = &Bundle{}
		if err := json.Unmarshal([]byte(text), b); err != nil {
			return nil, errdefs.InvalidArgument("%s is not a credential bundle", BundleFile)
		}
	}
	files, err := Open(s.key, *b)
	if err != nil {
		return nil, err
	}
	resp, err := s.Inject(ctx, a, files)
	if err != nil {
		return nil, err
	}
	return &ImportResponse{Status: "success", FilesImported: resp.FilesWritten,
		Message: fmt.Sprintf("Imported %d credential file(s) from %s", len(resp.FilesWritten), source)}, nil
}

// DeleteAgent forgets every credential of an agent (when the agent is deleted; its
// workspace goes with it).
func (s *Service) DeleteAgent(ctx context.Context, agentID string) error {
	return s.store.DeleteAgentCredentials(ctx, agentID)
}
