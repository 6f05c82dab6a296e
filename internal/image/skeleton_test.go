package image

import (
	"context"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock/paddock/internal/sandbox"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("building the base image needs root: it chowns /home/user to 1000:1000 (run the tests as root)")
	}
}

// newBase builds the base image in a fresh data dir.
func newBase(t *testing.T) *sandbox.Image {
	t.Helper()
	needRoot(t)
	r, err := NewResolver(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	img, err := r.Resolve(context.Background(), Base)
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Layers) != 1 {
		t.Fatalf("layers: %v, want exactly one", img.Layers)
	}
	return img
}

// want describes one skeleton entry: its type, permission bits and owner.
type want struct {
	typ      fs.FileMode // 0 for a regular file
	perm     fs.FileMode // including the sticky bit
	uid, gid uint32
	link     string
}

func TestSkeletonLayout(t *testing.T) {
	root := newBase(t).Layers[0]
	d := func(perm fs.FileMode) want { return want{typ: fs.ModeDir, perm: perm} }
	f := want{perm: 0o644}
	expect := map[string]want{
		".": d(0o755), "usr": d(0o755), "proc": d(0o555), "sys": d(0o555), "dev": d(0o755), "run": d(0o755),
		"tmp": d(fs.ModeSticky | 0o777), "var": d(0o755), "var/tmp": d(fs.ModeSticky | 0o777),
		"root": d(0o700), "home": d(0o755),
		"home/user": {typ: fs.ModeDir, perm: 0o755, uid: 1000, gid: 1000},
		"workspace": {typ: fs.ModeDir, perm: 0o755, uid: 1000, gid: 1000},
		"mnt":       d(0o755), "opt": d(0o755),
		".paddock": d(0o755), ".paddock/bin": d(0o755), ".paddock/run": d(0o755),
		".paddock/bin/paddock": {perm: 0o555},
		"etc":                  d(0o755), "etc/ssl": d(0o755), "etc/ssl/certs": d(0o755), "etc/alternatives": d(0o755),
		"etc/passwd": f, "etc/group": f, "etc/hostname": f, "etc/hosts": f, "etc/resolv.conf": f,
		"etc/nsswitch.conf": f,
	}
	if _, err := os.Stat("/etc/os-release"); err == nil {
		expect["etc/os-release"] = f
	}
	for _, name := range usrMerged {
		if target, err := os.Readlink("/" + name); err == nil {
			expect[name] = want{typ: fs.ModeSymlink, perm: 0o777, link: target}
		} else if isDir("/" + name) {
			expect[name] = d(0o755)
		}
	}

	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		seen[rel] = true
		w, ok := expect[rel]
		if !ok {
			t.Errorf("unexpected %s in the skeleton", rel)
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		if typ := fi.Mode().Type(); typ != w.typ {
			t.Errorf("%s: type %v, want %v", rel, typ, w.typ)
		}
		if perm := fi.Mode() & (fs.ModePerm | fs.ModeSticky | fs.ModeSetuid | fs.ModeSetgid); perm != w.perm {
			t.Errorf("%s: mode %v, want %v", rel, perm, w.perm)
		}
		if st.Uid != w.uid || st.Gid != w.gid {
			t.Errorf("%s: owner %d:%d, want %d:%d", rel, st.Uid, st.Gid, w.uid, w.gid)
		}
		if w.link != "" {
			if got, _ := os.Readlink(p); got != w.link {
				t.Errorf("%s -> %q, want -> %q (as on the host)", rel, got, w.link)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range expect {
		if !seen[p] {
			t.Errorf("%s missing from the skeleton", p)
		}
	}
}

// fields parses a colon-separated database such as /etc/passwd, checking the field count.
func fields(t *testing.T, path string, n int) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	ids := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f := strings.Split(line, ":")
		if len(f) != n {
			t.Fatalf("%s: line %q has %d fields, want %d", path, line, len(f), n)
		}
		if _, err := strconv.ParseUint(f[2], 10, 32); err != nil {
			t.Errorf("%s: line %q: bad id: %v", path, line, err)
		}
		if out[f[0]] != nil || ids[f[2]] {
			t.Errorf("%s: duplicate name or id in %q", path, line)
		}
		out[f[0]], ids[f[2]] = f, true
	}
	return out
}

func TestPasswdAndGroup(t *testing.T) {
	root := newBase(t).Layers[0]
	users := fields(t, filepath.Join(root, "etc/passwd"), 7)
	groups := fields(t, filepath.Join(root, "etc/group"), 4)
	cases := []struct{ name, line string }{
		{"root", "root:x:0:0:root:/root:/bin/bash"},
		{"user", "user:x:1000:1000:user:/home/user:/bin/bash"},
		{"nobody", "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := strings.Join(users[c.name], ":"); got != c.line {
				t.Fatalf("passwd: %q, want %q", got, c.line)
			}
			gid := users[c.name][3]
			if !slices.ContainsFunc(slices.Collect(maps.Values(groups)), func(g []string) bool { return g[2] == gid }) {
				t.Errorf("primary group %s of %s is not in /etc/group", gid, c.name)
			}
		})
	}
	for name, gid := range map[string]string{"root": "0", "tty": "5", "user": "1000", "nogroup": "65534"} {
		if g := groups[name]; g == nil || g[2] != gid {
			t.Errorf("group %s: %v, want gid %s", name, g, gid)
		}
	}
}

func TestEtcFiles(t *testing.T) {
	root := newBase(t).Layers[0]
	osRelease, _ := os.ReadFile("/etc/os-release")
	cases := []struct {
		file  string
		check func(string) bool
	}{
		{"hostname", func(s string) bool { return s == "sandbox\n" }},
		{"hosts", func(s string) bool {
			return strings.Contains(s, "127.0.0.1\tlocalhost\n") && strings.Contains(s, "::1\tlocalhost") &&
				strings.Contains(s, "127.0.1.1\tsandbox\n")
		}},
		{"resolv.conf", func(s string) bool {
			return strings.HasPrefix(s, "# ") && strings.Contains(s, "networking is off") && strings.Contains(s, "\nnameserver 127.0.0.1\n")
		}},
		{"nsswitch.conf", func(s string) bool {
			return strings.Contains(s, "passwd: files\n") && strings.Contains(s, "group: files\n")
		}},
		{"os-release", func(s string) bool { return s == string(osRelease) }},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, "etc", c.file))
			if c.file == "os-release" && osRelease == nil {
				if err == nil {
					t.Fatal("os-release in the image but not on the host")
				}
				return
			}
			if err != nil || !c.check(string(b)) {
				t.Errorf("%q (%v)", b, err)
			}
		})
	}
}
