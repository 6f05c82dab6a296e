package image

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

func TestBaseBindsMatchHost(t *testing.T) {
	img := newBase(t)
	want := []sandbox.Bind{{Source: "/usr", Destination: "/usr"}}
	for _, d := range []string{"/etc/ssl/certs", "/etc/alternatives", "/etc/fonts"} {
		if isDir(d) {
			want = append(want, sandbox.Bind{Source: d, Destination: d})
		}
	}
	for _, f := range []string{"/etc/matplotlibrc"} {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			want = append(want, sandbox.Bind{Source: f, Destination: f})
		}
	}
	for _, name := range usrMerged {
		fi, err := os.Lstat("/" + name)
		if err == nil && fi.IsDir() { // a real directory: the host is not usr-merged
			want = append(want, sandbox.Bind{Source: "/" + name, Destination: "/" + name})
		}
	}
	if !reflect.DeepEqual(img.Binds, want) {
		t.Errorf("binds:\n got %v\nwant %v", img.Binds, want)
	}
	wantEnv := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	if !reflect.DeepEqual(img.Config, sandbox.ImageConfig{Env: wantEnv}) {
		t.Errorf("config: %+v", img.Config)
	}
}

// TestNoPrivateHostPaths checks that nothing of the host but /usr, CA certificates,
// alternatives (symlinks into /usr), fonts, package configuration listed in hostBindFiles and
// non-merged system dirs reaches the image.
func TestNoPrivateHostPaths(t *testing.T) {
	img := newBase(t)
	allowed := map[string]bool{"/usr": true, "/etc/ssl/certs": true, "/etc/alternatives": true, "/etc/fonts": true}
	for _, f := range hostBindFiles {
		allowed[f] = true
	}
	for _, name := range usrMerged {
		allowed["/"+name] = true
	}
	forbidden := []string{"/root", "/home", "/work", "/var/lib", "/run", "/etc"}
	for _, b := range img.Binds {
		if !allowed[b.Source] || b.Destination != b.Source {
			t.Errorf("bind %v is not one of the allowed host dirs", b)
		}
		for _, f := range forbidden {
			if (b.Source == f || strings.HasPrefix(b.Source, f+"/")) && !allowed[b.Source] {
				t.Errorf("bind %v exposes host %s", b, f)
			}
		}
	}
	root := img.Layers[0]
	for _, p := range []string{"work", "var/lib", "etc/shadow", "etc/sudoers", "root/.bashrc", "etc/machine-id"} {
		if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
			t.Errorf("%s must not be in the base image", p)
		}
	}
	for _, name := range usrMerged {
		if target, err := os.Readlink(filepath.Join(root, name)); err == nil && !strings.HasPrefix(filepath.Clean(filepath.Join("/", target)), "/usr/") {
			t.Errorf("/%s -> %s leads out of /usr", name, target)
		}
	}
}

func TestResolve(t *testing.T) {
	needRoot(t)
	r, err := NewResolver(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	empty, err := r.Resolve(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	base, err := r.Resolve(ctx, Base)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(empty, base) || base.Ref != Base || base.Config.WorkingDir != "" || base.Config.User != "" {
		t.Errorf(`"" resolves to %+v, "base" to %+v`, empty, base)
	}
	base.Layers[0], base.Binds[0].Source, base.Config.Env[0] = "/mutated", "/mutated", "MUTATED=1"
	again, _ := r.Resolve(ctx, Base)
	if !reflect.DeepEqual(again, empty) {
		t.Errorf("a caller's change leaked into the resolver: %+v", again)
	}
}

func TestResolveBadReferences(t *testing.T) {
	needRoot(t)
	r, err := NewResolver(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Only malformed references and a loopback registry: tests never reach out to the internet.
	for ref, class := range map[string]error{"BASE": errdefs.ErrInvalidArgument, " base": errdefs.ErrInvalidArgument,
		"../base": errdefs.ErrInvalidArgument, "127.0.0.1:1/nothing/here:1": errdefs.ErrUnavailable} {
		t.Run(ref, func(t *testing.T) {
			img, err := r.Resolve(context.Background(), ref)
			if !errors.Is(err, class) || img != nil || !strings.Contains(err.Error(), strings.TrimSpace(strings.Split(ref, ":")[0])) {
				t.Errorf("got %v, %v; want %v naming the reference", img, err, class)
			}
		})
	}
}

func TestReopenReusesSkeleton(t *testing.T) {
	dir := t.TempDir()
	img := newBaseIn(t, dir)
	before, err := os.Stat(filepath.Join(img.Layers[0], "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	again := newBaseIn(t, dir)
	after, err := os.Stat(filepath.Join(again.Layers[0], "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(img, again) || !os.SameFile(before, after) {
		t.Errorf("reopening rebuilt or moved the skeleton: %v then %v", img.Layers, again.Layers)
	}
	want := filepath.Join(dir, "images", "base", baseVersion, "rootfs")
	if img.Layers[0] != want {
		t.Errorf("layer %s, want %s", img.Layers[0], want)
	}
}

func newBaseIn(t *testing.T, dir string) *sandbox.Image {
	t.Helper()
	needRoot(t)
	r, err := NewResolver(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	img, err := r.Resolve(context.Background(), Base)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestConcurrentBuild opens one data dir from several goroutines at once. Each takes the
// build lock through its own file description, exactly as separate processes would.
func TestConcurrentBuild(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	// A builder that died mid-way left this behind; the next build removes it.
	stale := filepath.Join(dir, "images", "base", baseVersion, ".build-12345")
	if err := os.MkdirAll(filepath.Join(stale, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	const n = 6
	layers := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := NewResolver(dir, nil)
			if err != nil {
				errs[i] = err
				return
			}
			img, err := r.Resolve(context.Background(), "")
			if err == nil {
				layers[i] = img.Layers[0]
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, l := range layers[1:] {
		if l != layers[0] {
			t.Errorf("layers differ: %v", layers)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(layers[0]))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "rootfs" && e.Name() != ".lock" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(layers[0], "etc/passwd")); err != nil {
		t.Errorf("skeleton incomplete: %v", err)
	}
}

func TestNewResolverRejectsBadDataDir(t *testing.T) {
	for name, dir := range map[string]string{"empty": "", "colon": "/tmp/a:b", "comma": "/tmp/a,b"} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewResolver(dir, nil); !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("NewResolver(%q): %v, want an invalid-argument error", dir, err)
			}
		})
	}
}

func TestRelativeDataDirGivesAbsoluteLayer(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	t.Chdir(dir)
	img := newBaseIn(t, "data")
	if want := filepath.Join(dir, "data", "images", "base", baseVersion, "rootfs"); img.Layers[0] != want {
		t.Errorf("layer %s, want %s", img.Layers[0], want)
	}
}

// TestNonMergedHost builds the base image against a fake host root whose /bin and /lib are
// real directories: they become mount points bound from the host, while /sbin stays a
// symlink.
func TestNonMergedHost(t *testing.T) {
	needRoot(t)
	host := t.TempDir()
	for _, d := range []string{"usr/sbin", "bin", "lib", "etc/ssl/certs"} {
		if err := os.MkdirAll(filepath.Join(host, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("usr/sbin", filepath.Join(host, "sbin")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "etc/os-release"), []byte("ID=fake\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := prepareBase(filepath.Join(t.TempDir(), "images", Base), host, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	bind := func(p string) sandbox.Bind { return sandbox.Bind{Source: filepath.Join(host, p), Destination: p} }
	want := []sandbox.Bind{bind("/usr"), bind("/etc/ssl/certs"), bind("/bin"), bind("/lib")}
	if !reflect.DeepEqual(img.Binds, want) {
		t.Errorf("binds:\n got %v\nwant %v", img.Binds, want)
	}
	root := img.Layers[0]
	for name, wantType := range map[string]os.FileMode{"bin": os.ModeDir, "lib": os.ModeDir, "sbin": os.ModeSymlink} {
		if fi, err := os.Lstat(filepath.Join(root, name)); err != nil || fi.Mode().Type() != wantType {
			t.Errorf("/%s in the skeleton: %v (%v), want type %v", name, fi, err, wantType)
		}
	}
	for _, name := range []string{"lib32", "lib64", "libx32"} {
		if _, err := os.Lstat(filepath.Join(root, name)); err == nil {
			t.Errorf("/%s is in the skeleton but not on the host", name)
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "etc/os-release")); string(b) != "ID=fake\n" {
		t.Errorf("os-release: %q (%v), want the host's", b, err)
	}
}
