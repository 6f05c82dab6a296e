package image

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// ImportImage implements sandbox.ImageManager: it stores archive as ref. The archive is a
// `docker save` tarball, an OCI image layout in a tar, or a root filesystem tar, each
// optionally gzip-compressed; it is spooled to disk (at most the import limit), never held
// in memory.
func (r *Resolver) ImportImage(ctx context.Context, ref string, archive io.Reader) (*sandbox.ImageInfo, error) {
	if err := r.checkImportName(ref); err != nil {
		return nil, err
	}
	unlock, err := r.oci.lockStore(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	spool, err := r.oci.spool(archive)
	if err != nil {
		return nil, err
	}
	defer os.Remove(spool)
	return r.oci.importTar(ctx, ref, spool)
}

// ImportPath stores the image at path as ref: a file as ImportImage takes it, or a
// directory holding an OCI image layout or a root filesystem.
func (r *Resolver) ImportPath(ctx context.Context, ref, path string) (*sandbox.ImageInfo, error) {
	if err := r.checkImportName(ref); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, errdefs.InvalidArgument("import %s: %v", path, err)
	}
	if !fi.IsDir() {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return r.ImportImage(ctx, ref, f)
	}
	unlock, err := r.oci.lockStore(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(path, "oci-layout")); err == nil {
		return r.oci.importLayout(ctx, ref, path)
	}
	return r.oci.importRootfs(ctx, ref, func(w io.Writer) error { return WriteTar(ctx, w, path) })
}

func (r *Resolver) checkImportName(ref string) error {
	if _, ok := r.builtins[ref]; ok {
		return errdefs.InvalidArgument("%q is a built-in image; import under another name", ref)
	}
	_, err := parseRef(ref)
	return err
}

// spool copies an archive, decompressed, to a file under tmp/ and returns its path.
func (s *ociStore) spool(archive io.Reader) (string, error) {
	if err := os.MkdirAll(filepath.Join(s.dir, "tmp"), 0o700); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "import-")
	if err != nil {
		return "", diskError(err, "import")
	}
	defer f.Close()
	br := bufio.NewReader(archive)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			os.Remove(f.Name())
			return "", errdefs.InvalidArgument("import: bad gzip stream: %v", err)
		}
		src = zr
	}
	n, err := io.Copy(f, io.LimitReader(src, s.importLimit+1))
	if err == nil && n > s.importLimit {
		err = fmt.Errorf("import: the archive is larger than %d bytes (the import limit): %w", s.importLimit, errdefs.ErrTooLarge)
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		os.Remove(f.Name())
		return "", diskError(err, "import")
	}
	return f.Name(), nil
}

// importTar imports a spooled, uncompressed tar of any of the three kinds.
func (s *ociStore) importTar(ctx context.Context, ref, file string) (*sandbox.ImageInfo, error) {
	names, err := tarNames(file)
	if err != nil {
		return nil, err
	}
	switch {
	case names["manifest.json"]:
		img, err := tarball.ImageFromPath(file, nil)
		if err != nil {
			return nil, errdefs.InvalidArgument("import %q: docker save archive: %v", ref, err)
		}
		return s.importImage(ref, img)
	case names["oci-layout"] && names["index.json"]:
		dir, err := os.MkdirTemp(filepath.Join(s.dir, "tmp"), "layout-")
		if err != nil {
			return nil, diskError(err, "import")
		}
		defer os.RemoveAll(dir)
		if err := extractLayout(file, dir); err != nil {
			return nil, err
		}
		return s.importLayout(ctx, ref, dir)
	}
	return s.importRootfs(ctx, ref, func(w io.Writer) error {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	})
}

// tarNames lists the top-level regular files of a tar (names without "./").
func tarNames(file string) (map[string]bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]bool{}
	tr := tar.NewReader(f) // skips file contents by seeking
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, errdefs.InvalidArgument("import: not a tar archive: %v", err)
		}
		if n := path.Clean(strings.TrimPrefix(hdr.Name, "./")); !strings.Contains(n, "/") && hdr.Typeflag == tar.TypeReg {
			out[n] = true
		}
	}
}

// extractLayout unpacks an OCI layout tar: only directories and regular files, every path
// inside dir.
func extractLayout(file, dir string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errdefs.InvalidArgument("import: OCI layout tar: %v", err)
		}
		p, err := inside(dir, hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return diskError(err, "import")
			}
		case tar.TypeReg:
			out, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return diskError(err, "import")
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return diskError(err, "import")
			}
		default:
			return errdefs.InvalidArgument("import: OCI layout entry %q is not a file or directory", hdr.Name)
		}
	}
}

// importLayout imports the host platform's image of an OCI layout directory.
func (s *ociStore) importLayout(_ context.Context, ref, dir string) (*sandbox.ImageInfo, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, errdefs.InvalidArgument("import %q: OCI layout: %v", ref, err)
	}
	imgs, err := layoutImages(idx)
	if err != nil {
		return nil, errdefs.InvalidArgument("import %q: OCI layout: %v", ref, err)
	}
	var have []string
	for _, c := range imgs {
		if c.platform == nil || (c.platform.OS == "linux" && c.platform.Architecture == runtime.GOARCH) {
			return s.importImage(ref, c.img)
		}
		have = append(have, c.platform.OS+"/"+c.platform.Architecture)
	}
	if len(have) == 0 {
		return nil, errdefs.InvalidArgument("import %q: the OCI layout holds no image", ref)
	}
	return nil, errdefs.InvalidArgument("image %q is for %s; this host is linux/%s", ref, strings.Join(have, ", "), runtime.GOARCH)
}

type layoutImage struct {
	img      v1.Image
	platform *v1.Platform
}

// layoutImages lists the images of an index and of the indexes it holds.
func layoutImages(idx v1.ImageIndex) ([]layoutImage, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []layoutImage
	for _, d := range im.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			more, err := layoutImages(child)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, err
			}
			out = append(out, layoutImage{img: img, platform: d.Platform})
		}
	}
	return out, nil
}

// importImage unpacks an image's layers (checking each against its diff ID) and records it.
func (s *ociStore) importImage(ref string, img v1.Image) (*sandbox.ImageInfo, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, errdefs.InvalidArgument("import %q: image config: %v", ref, err)
	}
	if err := checkPlatform(ref, cfg); err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, errdefs.InvalidArgument("import %q: %v", ref, err)
	}
	rec := record{Ref: ref, Config: configOf(cfg), Source: "import"}
	if d, err := img.Digest(); err == nil {
		rec.Digest = d.String()
	}
	for _, l := range layers {
		diffID, err := l.DiffID()
		if err != nil {
			return nil, errdefs.InvalidArgument("import %q: %v", ref, err)
		}
		if err := s.fetchLayer(diffID.String(), l.Uncompressed); err != nil {
			return nil, fmt.Errorf("import %q: %w", ref, err)
		}
		rec.Layers = append(rec.Layers, diffID.String())
	}
	return s.save(rec)
}

// importRootfs stores one layer holding a root filesystem, written as a tar by write.
func (s *ociStore) importRootfs(ctx context.Context, ref string, write func(io.Writer) error) (*sandbox.ImageInfo, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(write(pw)) }()
	diffID, err := s.storeLayer(pr, "")
	pr.CloseWithError(errors.New("import ended")) // stops the writer if unpacking failed
	if err != nil {
		return nil, fmt.Errorf("import %q: %w", ref, err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rec := record{Ref: ref, Layers: []string{diffID}, Source: "import",
		Config: sandbox.ImageConfig{Env: []string{"PATH=" + basePath}}}
	return s.save(rec)
}

func (s *ociStore) save(rec record) (*sandbox.ImageInfo, error) {
	if err := s.writeRecord(rec); err != nil {
		return nil, err
	}
	img := s.image(rec)
	return &sandbox.ImageInfo{Ref: rec.Ref, Digest: rec.Digest, Layers: img.Layers}, nil
}
