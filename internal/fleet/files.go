package fleet

import (
	"context"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"

	fspb "github.com/paddock/paddock/proto/filesystem"
)

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
