package registrytest

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"runtime"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/paddock/paddock/internal/testenv"
)

// Entry is one tar entry of a test layer. Typ defaults to a regular file, Mode to 0644
// (0755 for directories).
type Entry struct {
	Name, Body, Link string
	Typ              byte
	Mode             int64
}

// Layer builds an uncompressed layer (pushed gzip-compressed) from entries, in order.
func Layer(t testing.TB, entries ...Entry) v1.Layer {
	t.Helper()
	b := TarBytes(t, entries...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TarBytes writes entries as a tar.
func TarBytes(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ, mode := e.Typ, e.Mode
		if typ == 0 {
			typ = tar.TypeReg
		}
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		hdr := &tar.Header{Name: e.Name, Typeflag: typ, Mode: mode, Linkname: e.Link}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// BusyboxEntries is a minimal root filesystem: Debian's static busybox with the applets the
// tests use, /etc/passwd and /etc/group, and a file the whiteout layer removes. It skips t
// (or fails it, when CI requires the component) without busybox-static.
func BusyboxEntries(t testing.TB) []Entry {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		testenv.Require(t, "busybox", "busybox missing: apt-get install busybox-static")
	}
	es := []Entry{{Name: "bin/", Typ: tar.TypeDir}, {Name: "bin/busybox", Body: string(bb), Mode: 0o755}}
	for _, a := range []string{"sh", "echo", "cat", "test", "pwd", "id", "ls", "sleep", "true"} {
		es = append(es, Entry{Name: "bin/" + a, Typ: tar.TypeSymlink, Link: "busybox"})
	}
	return append(es, Entry{Name: "etc/", Typ: tar.TypeDir},
		Entry{Name: "etc/passwd", Body: "root:x:0:0:root:/root:/bin/sh\n"}, Entry{Name: "etc/group", Body: "root:x:0:\n"},
		Entry{Name: "etc/removed", Body: "the upper layer whites this out\n"},
		Entry{Name: "root/", Typ: tar.TypeDir, Mode: 0o700}, Entry{Name: "app/", Typ: tar.TypeDir})
}

// BusyboxLayer is BusyboxEntries as a layer.
func BusyboxLayer(t testing.TB) v1.Layer { return Layer(t, BusyboxEntries(t)...) }

// WhiteoutLayer removes /etc/removed and adds /etc/new.
func WhiteoutLayer(t testing.TB) v1.Layer {
	return Layer(t, Entry{Name: "etc/", Typ: tar.TypeDir}, Entry{Name: "etc/.wh.removed"},
		Entry{Name: "etc/new", Body: "from layer two\n"})
}

// Image stacks layers (lowest first) under a config for this host's platform with
// PATH=/bin, IMAGE_ENV=set and working dir /app.
func Image(t testing.TB, layers ...v1.Layer) v1.Image {
	t.Helper()
	return ImageFor(t, runtime.GOARCH, layers...)
}

// ImageFor is Image for another architecture.
func ImageFor(t testing.TB, arch string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.Env = []string{"PATH=/bin", "IMAGE_ENV=set"}
	cf.Config.WorkingDir = "/app"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}
