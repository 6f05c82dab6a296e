package server_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSurfacesGoThroughTheManager: the surfaces, sessions, the server and the CLI reach
// sandboxes only through the manager; none imports the guest client or the guest's own
// packages (the CLI's guest verb, which runs the guest, aside). What host and guest share is
// internal/guestproto.
func TestSurfacesGoThroughTheManager(t *testing.T) {
	const mod = "github.com/paddock/paddock/"
	forbidden := func(path string) bool {
		return path == mod+"internal/guestclient" || path == mod+"internal/guest" ||
			strings.HasPrefix(path, mod+"internal/guest/")
	}
	for _, root := range []string{"../api", "../session", ".", "../../cmd/paddock"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
				path == filepath.Join("../../cmd/paddock", "guest.go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); forbidden(p) {
					t.Errorf("%s imports %s: go through the manager (or internal/guestproto)", path, p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
