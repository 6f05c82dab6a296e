package server

import (
	"archive/tar"
	"bytes"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/testenv"
)

// pushBusybox publishes a one-layer image holding a static busybox to an in-process registry.
func pushBusybox(t *testing.T) string {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		testenv.Require(t, "runc", "busybox missing: apt-get install busybox-static")
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body []byte) {
		h.Size = int64(len(body))
		_ = tw.WriteHeader(h)
		_, _ = tw.Write(body)
	}
	add(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755}, bb)
	for _, l := range []string{"sh", "echo", "cat"} {
		add(&tar.Header{Name: "bin/" + l, Typeflag: tar.TypeSymlink, Linkname: "busybox"}, nil)
	}
	add(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	add(&tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644}, []byte("root:x:0:0:root:/:/bin/sh\n"))
	_ = tw.Close()
	b := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, _ := mutate.AppendLayers(empty.Image, layer)
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config.Env = "linux", "amd64", []string{"PATH=/bin"}
	img, _ = mutate.ConfigFile(img, cf)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/tools/busybox:1"
	r, _ := name.ParseReference(ref, name.Insecure)
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestImagesPullListRunRemove(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	ref := pushBusybox(t)
	if code, env := s.call("POST", "/images/pull", map[string]any{"ref": ref}, ""); code != 200 {
		t.Fatalf("pull: %d %s", code, env.Error)
	}
	_, env := s.call("GET", "/images", nil, "")
	if imgs := data[[]map[string]any](t, env); len(imgs) != 2 {
		t.Errorf("images: %v (want base and the pulled one)", imgs)
	}
	if code, env := s.call("POST", "/sandboxes", map[string]any{"name": "bb", "image": ref}, ""); code != 201 {
		t.Fatalf("create from pulled image: %d %s", code, env.Error)
	}
	_, env = s.call("POST", "/sandboxes/bb/exec", map[string]any{"command": []string{"sh", "-c", "echo from busybox"}}, "")
	if out := data[execOut](t, env); out.Stdout != "from busybox\n" {
		t.Errorf("exec: %+v", out)
	}
	layers := filepath.Join(s.srv.cfg.DataDir, "images", "oci", "layers")
	if code, env := s.call("DELETE", "/images/"+ref, nil, ""); code != 200 {
		t.Fatalf("remove: %d %s", code, env.Error)
	}
	if ents, _ := os.ReadDir(layers); len(ents) != 1 {
		t.Errorf("removing the image deleted a layer a sandbox uses: %v", ents)
	}
	if _, env = s.call("POST", "/sandboxes/bb/exec", map[string]any{"command": []string{"echo", "still"}}, ""); data[execOut](t, env).Stdout != "still\n" {
		t.Error("sandbox broke after its image was removed")
	}
	s.call("DELETE", "/sandboxes/bb", nil, "")
	s.call("POST", "/images/pull", map[string]any{"ref": ref}, "")
	s.call("DELETE", "/images/"+ref, nil, "")
	if ents, _ := os.ReadDir(layers); len(ents) != 0 {
		t.Errorf("unused layers kept after removal: %v", ents)
	}
	for path, want := range map[string]int{"/images/" + ref: 404, "/images/base": 400} {
		if code, _ := s.call("DELETE", path, nil, ""); code != want {
			t.Errorf("DELETE %s: %d, want %d", path, code, want)
		}
	}
	if code, env := s.call("POST", "/images/pull", map[string]any{"ref": "Not A Ref"}, ""); code != 400 {
		t.Errorf("malformed ref: %d %s", code, env.Error)
	}
}
