package fs_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"golang.org/x/sys/unix"

	pb "github.com/paddock/paddock/proto/filesystem"
)

func TestStat(t *testing.T) {
	e := newEnv(t, "")
	file := e.write(t, "a/f.txt", "12345")
	if err := os.Chmod(file, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(file, "user.e2b.purpose", []byte("test"), 0); err != nil {
		t.Fatalf("xattrs unsupported on %s: %v", e.dir, err)
	}
	owned := e.write(t, "a/owned.txt", "")
	if err := os.Chown(owned, strangerUID, strangerUID); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"a/link": "f.txt", "a/link2": "link", "a/dangling": "../gone/x"} {
		if err := os.Symlink(target, e.path(name)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, path, user, code string
		check                  func(*testing.T, *pb.EntryInfo)
	}{
		{name: "file", path: file, code: "ok", check: func(t *testing.T, en *pb.EntryInfo) {
			if en.GetType() != pb.FileType_FILE_TYPE_FILE || en.GetName() != "f.txt" || en.GetPath() != file ||
				en.GetSize() != 5 || en.GetMode() != 0o640 || en.GetPermissions() != "-rw-r-----" ||
				en.GetOwner() != "root" || en.GetGroup() != "root" || en.GetModifiedTime().AsTime().IsZero() {
				t.Errorf("entry = %v", en)
			}
			if en.GetMetadata()["purpose"] != "test" {
				t.Errorf("metadata = %v, want purpose=test from xattr user.e2b.purpose", en.GetMetadata())
			}
		}},
		{name: "unknown owner is numeric", path: owned, code: "ok", check: func(t *testing.T, en *pb.EntryInfo) {
			if en.GetOwner() != stranger || en.GetGroup() != stranger {
				t.Errorf("owner/group = %q/%q, want %s", en.GetOwner(), en.GetGroup(), stranger)
			}
		}},
		{name: "directory", path: e.path("a"), code: "ok", check: func(t *testing.T, en *pb.EntryInfo) {
			if en.GetType() != pb.FileType_FILE_TYPE_DIRECTORY || !strings.HasPrefix(en.GetPermissions(), "d") {
				t.Errorf("entry = %v", en)
			}
		}},
		{name: "symlink is not followed; its target is the absolute resolved path", path: e.path("a/link"), code: "ok", check: func(t *testing.T, en *pb.EntryInfo) {
			if en.GetType() != pb.FileType_FILE_TYPE_SYMLINK || en.GetSymlinkTarget() != resolved(t, file) {
				t.Errorf("entry = %v, want target %s", en, resolved(t, file))
			}
		}},
		{name: "a link to a link resolves to the end", path: e.path("a/link2"), code: "ok", check: func(t *testing.T, en *pb.EntryInfo) {
			if en.GetSymlinkTarget() != resolved(t, file) {
				t.Errorf("target %q, want %s", en.GetSymlinkTarget(), resolved(t, file))
			}
		}},
		{name: "a dangling link names the absolute path it points to", path: e.path("a/dangling"), code: "ok", check: func(t *testing.T, en *pb.EntryInfo) {
			if want := e.path("gone/x"); en.GetType() != pb.FileType_FILE_TYPE_SYMLINK || en.GetSymlinkTarget() != want {
				t.Errorf("entry = %v, want target %s", en, want)
			}
		}},
		{name: "relative to the user's home", path: strings.TrimPrefix(file, "/"), user: stranger, code: "ok", check: func(t *testing.T, en *pb.EntryInfo) {
			if en.GetPath() != file {
				t.Errorf("path = %s, want %s", en.GetPath(), file)
			}
		}},
		{name: "tilde is the user's home", path: "~", user: stranger, code: "ok", check: func(t *testing.T, en *pb.EntryInfo) {
			if en.GetPath() != "/" {
				t.Errorf("path = %s, want /", en.GetPath())
			}
		}},
		{name: "missing", path: e.path("nope"), code: "not_found"},
		{name: "below a file", path: file + "/x", code: "not_found"},
		{name: "empty path", path: "", code: "invalid_argument"},
		{name: "unknown user", path: file, user: "no-such-user-here", code: "unauthenticated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := connect.NewRequest(&pb.StatRequest{Path: tc.path})
			if tc.user != "" {
				as(req, tc.user)
			}
			res, err := e.client.Stat(context.Background(), req)
			if codeOf(err) != tc.code {
				t.Fatalf("code %s (%v), want %s", codeOf(err), err, tc.code)
			}
			if tc.check != nil {
				tc.check(t, res.Msg.GetEntry())
			}
		})
	}
}

func TestMakeDir(t *testing.T) {
	e := newEnv(t, "")
	file := e.write(t, "file", "x")
	if err := os.Mkdir(e.path("exists"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, path, code string }{
		{"nested", e.path("n1/n2/n3"), "ok"},
		{"existing directory", e.path("exists"), "already_exists"},
		{"existing file", file, "invalid_argument"},
		{"below a file", file + "/sub", "invalid_argument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.client.MakeDir(context.Background(), as(connect.NewRequest(&pb.MakeDirRequest{Path: tc.path}), stranger))
			if codeOf(err) != tc.code {
				t.Fatalf("code %s (%v), want %s", codeOf(err), err, tc.code)
			}
			if err != nil {
				return
			}
			if en := res.Msg.GetEntry(); en.GetType() != pb.FileType_FILE_TYPE_DIRECTORY || en.GetPath() != tc.path || en.GetMode() != 0o755 {
				t.Errorf("entry = %v", en)
			}
			for _, p := range []string{e.path("n1"), e.path("n1/n2"), tc.path} {
				var st unix.Stat_t
				if err := unix.Stat(p, &st); err != nil || st.Uid != strangerUID || st.Gid != strangerUID {
					t.Errorf("%s: uid %d gid %d (%v), want the caller %d", p, st.Uid, st.Gid, err, strangerUID)
				}
			}
		})
	}
	var st unix.Stat_t
	if err := unix.Stat(e.dir, &st); err != nil || st.Uid != 0 {
		t.Errorf("an existing parent changed owner: uid %d (%v)", st.Uid, err)
	}
}

func TestMove(t *testing.T) {
	e := newEnv(t, "")
	src := e.write(t, "src/f.txt", "moved")
	e.write(t, "tree/inner/x", "x")
	blocker := e.write(t, "blocker", "")
	cases := []struct{ name, src, dst, code string }{
		{"file into new directories", src, e.path("x/y/g.txt"), "ok"},
		{"directory", e.path("tree"), e.path("tree2"), "ok"},
		{"missing source", e.path("nope"), e.path("z"), "not_found"},
		{"destination below a file", e.path("tree2"), blocker + "/t", "invalid_argument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.client.Move(context.Background(), connect.NewRequest(&pb.MoveRequest{Source: tc.src, Destination: tc.dst}))
			if codeOf(err) != tc.code {
				t.Fatalf("code %s (%v), want %s", codeOf(err), err, tc.code)
			}
			if err != nil {
				return
			}
			if res.Msg.GetEntry().GetPath() != tc.dst {
				t.Errorf("entry path %s, want %s", res.Msg.GetEntry().GetPath(), tc.dst)
			}
			if _, err := os.Lstat(tc.src); !os.IsNotExist(err) {
				t.Errorf("source still there: %v", err)
			}
		})
	}
	if got := readFile(t, e.path("x/y/g.txt")); got != "moved" {
		t.Errorf("moved file holds %q", got)
	}
	if got := readFile(t, e.path("tree2/inner/x")); got != "x" {
		t.Errorf("moved tree holds %q", got)
	}
}

func TestListDir(t *testing.T) {
	e := newEnv(t, "")
	e.write(t, "a/f1", "1")
	e.write(t, "a/sub/f2", "2")
	e.write(t, "a/sub/deeper/f3", "3")
	if err := os.Symlink("sub", e.path("a/linkdir")); err != nil {
		t.Fatal(err)
	}
	level1 := []string{"f1", "linkdir", "sub"}
	level2 := append(slices.Clone(level1), "sub/deeper", "sub/f2")
	level3 := []string{"f1", "linkdir", "sub", "sub/deeper", "sub/deeper/f3", "sub/f2"}
	cases := []struct {
		name  string
		path  string
		depth uint32
		code  string
		want  []string
	}{
		{"depth 0 means 1", e.path("a"), 0, "ok", level1},
		{"depth 1", e.path("a"), 1, "ok", level1},
		{"depth 2 skips the symlinked dir", e.path("a"), 2, "ok", level2},
		{"depth 3", e.path("a"), 3, "ok", level3},
		{"a file", e.path("a/f1"), 1, "invalid_argument", nil},
		{"missing", e.path("nope"), 1, "not_found", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.client.ListDir(context.Background(), connect.NewRequest(&pb.ListDirRequest{Path: tc.path, Depth: tc.depth}))
			if codeOf(err) != tc.code {
				t.Fatalf("code %s (%v), want %s", codeOf(err), err, tc.code)
			}
			if err != nil {
				return
			}
			var got []string
			for _, en := range res.Msg.GetEntries() {
				got = append(got, strings.TrimPrefix(en.GetPath(), e.path("a")+"/"))
				if en.GetName() == "linkdir" && en.GetType() != pb.FileType_FILE_TYPE_SYMLINK {
					t.Errorf("linkdir has type %v", en.GetType())
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("entries %v, want %v", got, tc.want)
			}
		})
	}
}

// resolved is path with every symlink on the way followed.
func resolved(t *testing.T, path string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRemove(t *testing.T) {
	e := newEnv(t, "")
	e.write(t, "tree/a/b", "x")
	target := e.write(t, "target", "kept")
	if err := os.Symlink(target, e.path("link")); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, path, code string }{
		{"directory tree", e.path("tree"), "ok"},
		{"symlink only", e.path("link"), "ok"},
		{"missing: already removed", e.path("nope"), "ok"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.Remove(context.Background(), connect.NewRequest(&pb.RemoveRequest{Path: tc.path}))
			if codeOf(err) != tc.code {
				t.Fatalf("code %s (%v), want %s", codeOf(err), err, tc.code)
			}
			if _, err := os.Lstat(tc.path); !os.IsNotExist(err) {
				t.Errorf("%s still there: %v", tc.path, err)
			}
		})
	}
	if got := readFile(t, target); got != "kept" {
		t.Errorf("symlink target now %q", got)
	}
}
