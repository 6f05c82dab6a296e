package image

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
)

func TestBaseImage(t *testing.T) {
	dir := t.TempDir()
	r, err := NewResolver(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	img, err := r.Resolve(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	root := img.Layers[0]
	passwd, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil || !strings.Contains(string(passwd), "user:x:1000:1000:user:/home/user:") || !strings.HasPrefix(string(passwd), "root:x:0:0:") {
		t.Errorf("passwd: %q %v", passwd, err)
	}
	for p, want := range map[string]os.FileMode{"tmp": os.ModeSticky | 0o777, "root": 0o700, "home/user": 0o755, "workspace": 0o755} {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil || fi.Mode()&(os.ModeSticky|os.ModePerm) != want {
			t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode(), err, want)
		}
	}
	if fi, _ := os.Stat(filepath.Join(root, "home/user")); fi.Sys().(*syscall.Stat_t).Uid != 1000 {
		t.Error("/home/user is not owned by uid 1000")
	}
	for _, forbidden := range []string{"work", "var/lib", "etc/shadow"} {
		if _, err := os.Lstat(filepath.Join(root, forbidden)); err == nil {
			t.Errorf("%s must not be in the base image", forbidden)
		}
	}
	if img.Binds[0].Source != "/usr" || img.Binds[0].Destination != "/usr" {
		t.Errorf("binds: %+v", img.Binds)
	}
	if target, err := os.Readlink("/bin"); err == nil {
		if got, _ := os.Readlink(filepath.Join(root, "bin")); got != target {
			t.Errorf("usr-merged host: /bin -> %q in the image, %q on the host", got, target)
		}
	}
	// Reopening reuses the skeleton.
	if _, err := NewResolver(dir, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(context.Background(), "python:3.12"); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "python:3.12") {
		t.Errorf("unknown image: %v", err)
	}
}
