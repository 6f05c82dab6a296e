package engine

import (
	"archive/tar"
	"bytes"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

// tarLayer builds a layer from name → content ("->target" makes a symlink, "/" a directory).
func tarLayer(t *testing.T, files map[string]string, order []string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range order {
		c := files[n]
		hdr := &tar.Header{Name: n, Mode: 0o755, Typeflag: tar.TypeReg, Size: int64(len(c))}
		switch {
		case strings.HasPrefix(c, "->"):
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeSymlink, c[2:], 0
		case strings.HasSuffix(n, "/"):
			hdr.Typeflag, hdr.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			_, _ = tw.Write([]byte(c))
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

// TestSandboxFromOCIImage pulls an image the test builds (a static busybox and a whiteout
// layer) from a registry on loopback and runs a sandbox from it: no host /usr involved.
func TestSandboxFromOCIImage(t *testing.T) {
	testenv.NeedRunc(t)
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		testenv.Require(t, "runc", "busybox missing: apt-get install busybox-static")
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/test/busybox:1"
	files := map[string]string{"bin/": "", "bin/busybox": string(bb), "bin/sh": "->busybox", "bin/echo": "->busybox",
		"bin/cat": "->busybox", "bin/test": "->busybox", "bin/pwd": "->busybox", "bin/id": "->busybox",
		"etc/": "", "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "etc/group": "root:x:0:\n",
		"etc/removed": "old", "app/": "", "root/": ""}
	order := []string{"bin/", "bin/busybox", "bin/sh", "bin/echo", "bin/cat", "bin/test", "bin/pwd", "bin/id",
		"etc/", "etc/passwd", "etc/group", "etc/removed", "app/", "root/"}
	top := tarLayer(t, map[string]string{"etc/.wh.removed": "", "etc/new": "from layer two\n"}, []string{"etc/.wh.removed", "etc/new"})
	img, err := mutate.AppendLayers(empty.Image, tarLayer(t, files, order), top)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Env, cf.Config.WorkingDir = []string{"PATH=/bin", "IMAGE_ENV=set"}, "/app"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	r, _ := name.ParseReference(ref, name.Insecure)
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	eng, _ := newTestEngine(t)
	sb := mustCreate(t, eng, sandbox.Spec{Name: "from-oci", Image: ref})
	got := shOK(t, eng, sb.ID, "echo hi $IMAGE_ENV; pwd; cat /etc/new; test -e /etc/removed || echo removed-gone; test -e /usr/bin || echo no-host-usr")
	if got != "hi set\n/app\nfrom layer two\nremoved-gone\nno-host-usr" {
		t.Errorf("sandbox from OCI image: %q", got)
	}
}
