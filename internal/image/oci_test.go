package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
)

// tentry is one tar entry of a test layer.
type tentry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func layerOf(t testing.TB, entries ...tentry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: mode, Size: int64(len(e.body)), Linkname: e.link}
		if typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			_, _ = tw.Write([]byte(e.body))
		}
	}
	_ = tw.Close()
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// pushImage writes an image of layers (lowest first) to the registry as ref.
func pushImage(t testing.TB, ref string, layers ...v1.Layer) {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Config.Env = []string{"PATH=/bin", "FROM_IMAGE=yes"}
	cf.Config.WorkingDir = "/app"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
}

func testRegistry(t testing.TB) string {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestPullUnpackShareAndWhiteouts(t *testing.T) {
	needRoot(t)
	reg := testRegistry(t)
	bottom := layerOf(t, tentry{name: "etc/", typ: tar.TypeDir, mode: 0o755}, tentry{name: "etc/removed", body: "gone"},
		tentry{name: "bin/", typ: tar.TypeDir, mode: 0o755}, tentry{name: "bin/tool", body: "#!", mode: 0o4755},
		tentry{name: "bin/alias", typ: tar.TypeSymlink, link: "/bin/tool"}, tentry{name: "bin/hard", typ: tar.TypeLink, link: "bin/tool"},
		tentry{name: "opaque/", typ: tar.TypeDir, mode: 0o755}, tentry{name: "opaque/old", body: "x"})
	top := layerOf(t, tentry{name: "etc/.wh.removed"}, tentry{name: "opaque/.wh..wh..opq"}, tentry{name: "etc/new", body: "new"})
	pushImage(t, reg+"/test/one:1", bottom, top)
	pushImage(t, reg+"/test/two:1", bottom)

	dir := t.TempDir()
	r, err := NewResolver(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	imgs := make([]any, 8)
	for i := range imgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img, err := r.Resolve(ctx, reg+"/test/one:1")
			if err != nil {
				t.Error(err)
				return
			}
			imgs[i] = img
		}()
	}
	wg.Wait()
	one, err := r.Resolve(ctx, reg+"/test/one:1")
	if err != nil || len(one.Layers) != 2 {
		t.Fatalf("resolve: %v %+v", err, one)
	}
	if one.Config.WorkingDir != "/app" || one.Config.Env[1] != "FROM_IMAGE=yes" {
		t.Errorf("config: %+v", one.Config)
	}
	two, err := r.Resolve(ctx, reg+"/test/two:1")
	if err != nil || two.Layers[0] != one.Layers[0] {
		t.Errorf("the shared layer is not shared: %v %v", two, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "images", "oci", "layers")); len(ents) != 2 {
		t.Errorf("%d layer dirs for 2 distinct layers", len(ents))
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(one.Layers[1], "etc", "removed"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("whiteout is not a 0:0 character device: %v %o", err, st.Mode)
	}
	buf := make([]byte, 4)
	if n, err := unix.Lgetxattr(filepath.Join(one.Layers[1], "opaque"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("opaque dir: %v %q", err, buf[:n])
	}
	if fi, err := os.Stat(filepath.Join(one.Layers[0], "bin", "tool")); err != nil || fi.Mode()&os.ModeSetuid == 0 {
		t.Errorf("setuid bit not kept: %v", fi)
	}
	if target, _ := os.Readlink(filepath.Join(one.Layers[0], "bin", "alias")); target != "/bin/tool" {
		t.Errorf("symlink target %q", target)
	}
	if _, err := r.Resolve(ctx, reg+"/test/nothing:1"); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "test/nothing") {
		t.Errorf("unknown image: %v", err)
	}
}

func TestHostileLayersStayInside(t *testing.T) {
	needRoot(t)
	outside := t.TempDir()
	for name, l := range map[string][]tentry{
		"dotdot":          {{name: "../../" + filepath.Base(outside) + "/pwned", body: "x"}},
		"through symlink": {{name: "escape", typ: tar.TypeSymlink, link: outside}, {name: "escape/pwned", body: "x"}},
		"hardlink out":    {{name: "h", typ: tar.TypeLink, link: "../../../etc/passwd"}},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := newOCIStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			layer := layerOf(t, l...)
			diff, _ := layer.DiffID()
			if err := s.fetchLayer(diff.String(), layer.Uncompressed); !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("hostile layer accepted: %v", err)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Fatalf("a layer wrote outside its directory: %v", ents)
			}
			if ents, _ := os.ReadDir(filepath.Join(s.dir, "layers")); len(ents) != 0 {
				t.Errorf("a failed unpack left %v", ents)
			}
		})
	}
}

func TestDigestMismatchKeepsNothing(t *testing.T) {
	needRoot(t)
	s, err := newOCIStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l := layerOf(t, tentry{name: "f", body: "content"})
	err = s.fetchLayer("sha256:0000000000000000000000000000000000000000000000000000000000000000", l.Uncompressed)
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "mismatch") {
		t.Errorf("mismatch: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(s.dir, "layers")); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}
