package image

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	rt "github.com/paddock/paddock/internal/image/registrytest"
)

// FuzzUnpackLayer feeds arbitrary layer tars (and imports) to the unpacker: whatever it
// accepts or refuses, nothing may appear outside the layer's directory.
func FuzzUnpackLayer(f *testing.F) {
	for _, seed := range [][]rt.Entry{
		{{Name: "a/b", Body: "x"}, {Name: "a/.wh.b"}, {Name: "a/.wh..wh..opq"}},
		{{Name: "../x", Body: "x"}},
		{{Name: "l", Typ: tar.TypeSymlink, Link: "/"}, {Name: "l/x", Body: "x"}},
		{{Name: "h", Typ: tar.TypeLink, Link: "../../etc/passwd"}},
		{{Name: "d/", Typ: tar.TypeDir}, {Name: "d", Body: "file over dir"}},
	} {
		f.Add(rt.TarBytes(f, seed...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		dir := filepath.Join(root, "layer")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		_, _ = unpackLayer(bytes.NewReader(data), dir)
		ents, err := os.ReadDir(root)
		if err != nil || len(ents) != 1 {
			t.Fatalf("the unpacker wrote outside the layer: %v %v", ents, err)
		}
	})
}
