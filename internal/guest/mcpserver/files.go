package mcpserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/toolout"
	fspb "github.com/paddock/paddock/proto/filesystem"
)

// The arguments of the file tools.
type (
	pathArgs struct {
		Path string `json:"path" jsonschema:"the path in the sandbox"`
	}
	writeArgs struct {
		Path     string `json:"path" jsonschema:"the file's path in the sandbox"`
		Content  string `json:"content" jsonschema:"the file's content"`
		Encoding string `json:"encoding,omitempty" jsonschema:"utf-8 (default) or base64"`
	}
	listArgs struct {
		Path  string `json:"path,omitempty" jsonschema:"the directory (default /)"`
		Depth int    `json:"depth,omitempty" jsonschema:"levels to list (default 1, at most 5)"`
	}
)

// fileContent is read_file's answer.
type fileContent struct {
	Path      string `json:"path"`
	Content   string `json:"content"`
	Encoding  string `json:"encoding"`
	Truncated bool   `json:"truncated,omitempty"`
	Note      string `json:"note,omitempty"`
}

// fileWritten is write_file's answer.
type fileWritten struct {
	Path string `json:"path"`
	Size int    `json:"size"`
}

// fileEntry is one entry list_files answers.
type fileEntry struct {
	Name string `json:"name"`
	Path string `json:"path"`
	Type string `json:"type"` // file, dir or symlink
	Size int64  `json:"size"`
}

type listing struct {
	Path      string      `json:"path"`
	Entries   []fileEntry `json:"entries"`
	Truncated bool        `json:"truncated,omitempty"`
	Note      string      `json:"note,omitempty"`
}

// maxEntries caps list_files.
const maxEntries = 1000

// readFile reads at most OutputLimit bytes of text (three quarters of it as base64, which is
// a third longer).
func (s *Server) readFile(ctx context.Context, in pathArgs) (any, error) {
	if strings.TrimSpace(in.Path) == "" {
		return nil, errdefs.InvalidArgument("path is required")
	}
	rc, err := s.c.ReadFile(ctx, in.Path, "")
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	txt, err := toolout.ReadText(rc, OutputLimit, "run_command")
	if err != nil {
		return nil, err
	}
	return fileContent{Path: in.Path, Content: txt.Content, Encoding: txt.Encoding, Truncated: txt.Truncated, Note: txt.Note}, nil
}

func (s *Server) writeFile(ctx context.Context, in writeArgs) (any, error) {
	if strings.TrimSpace(in.Path) == "" {
		return nil, errdefs.InvalidArgument("path is required")
	}
	data := []byte(in.Content)
	switch strings.ToLower(in.Encoding) {
	case "", "utf-8", "utf8", "text":
	case "base64":
		var err error
		if data, err = base64.StdEncoding.DecodeString(in.Content); err != nil {
			return nil, errdefs.InvalidArgument("content is not valid base64")
		}
	default:
		return nil, errdefs.InvalidArgument("unknown encoding %q: use utf-8 or base64", in.Encoding)
	}
	if err := s.c.WriteFile(ctx, in.Path, "", bytes.NewReader(data)); err != nil {
		return nil, err
	}
	return fileWritten{Path: in.Path, Size: len(data)}, nil
}

// listFiles lists a directory, at most maxEntries entries or about OutputLimit bytes.
func (s *Server) listFiles(ctx context.Context, in listArgs) (any, error) {
	dir := in.Path
	if dir == "" {
		dir = "/"
	}
	if in.Depth < 0 || in.Depth > 5 {
		return nil, errdefs.InvalidArgument("depth must be between 1 and 5")
	}
	infos, err := s.c.ListDir(ctx, dir, "", uint32(max(in.Depth, 1)))
	if err != nil {
		return nil, err
	}
	out := listing{Path: dir, Entries: []fileEntry{}}
	size := 0 // about what the entries take in JSON
	for i, e := range infos {
		size += len(e.GetName()) + len(e.GetPath()) + 64
		if i == maxEntries || size > OutputLimit {
			out.Truncated = true
			out.Note = fmt.Sprintf("listing truncated: %d of %d entries shown (at most %d, or 64 KiB)", i, len(infos), maxEntries)
			break
		}
		out.Entries = append(out.Entries, fileEntry{Name: e.GetName(), Path: e.GetPath(), Type: entryType(e.GetType()), Size: e.GetSize()})
	}
	return out, nil
}

func entryType(t fspb.FileType) string {
	switch t {
	case fspb.FileType_FILE_TYPE_DIRECTORY:
		return "dir"
	case fspb.FileType_FILE_TYPE_SYMLINK:
		return "symlink"
	}
	return "file"
}
