package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// hostPlatform is what pulls ask registries for.
var hostPlatform = v1.Platform{OS: "linux", Architecture: runtime.GOARCH}

func (s *ociStore) remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithPlatform(hostPlatform),
		remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithTransport(s.rt)}
}

// pull fetches ref (from a mirror when one is configured and has it), unpacks the layers it
// does not have yet, reporting progress, and records the image.
func (s *ociStore) pull(ctx context.Context, ref string, parsed name.Reference, report ProgressFunc) (*sandbox.Image, error) {
	img, registry, err := s.fetchImage(ctx, ref, parsed)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, classifyPull(ref, registry, err)
	}
	if err := checkPlatform(ref, cfg); err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, classifyPull(ref, registry, err)
	}
	rec := record{Ref: ref, Config: configOf(cfg)}
	if d, err := img.Digest(); err == nil {
		rec.Digest = d.String()
	}
	unlock, err := s.lockStore(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	report(Progress{Ref: ref, Layers: len(layers)})
	for i, l := range layers {
		diffID, err := l.DiffID()
		if err != nil {
			return nil, classifyPull(ref, registry, err)
		}
		p := Progress{Ref: ref, Index: i + 1, Layers: len(layers)}
		if d, err := l.Digest(); err == nil {
			p.Layer = d.String()
		}
		p.Total, _ = l.Size()
		if _, err := os.Stat(s.layerDir(diffID.String())); err == nil {
			p.Current, p.Done, p.Cached = p.Total, true, true
			report(p)
		} else {
			err := s.fetchLayer(diffID.String(), func() (io.ReadCloser, error) { return openCounted(l, p, report) })
			if err != nil {
				return nil, fmt.Errorf("image %q: %w", ref, classifyPull(ref, registry, err))
			}
			p.Current, p.Done = p.Total, true
			report(p)
		}
		rec.Layers = append(rec.Layers, diffID.String())
	}
	if err := s.writeRecord(rec); err != nil {
		return nil, err
	}
	return s.image(rec), nil
}

// fetchImage finds ref's manifest: at each configured mirror in turn, then at its own
// registry. A failing mirror is logged and skipped; only the registry's own error counts.
func (s *ociStore) fetchImage(ctx context.Context, ref string, parsed name.Reference) (v1.Image, string, error) {
	cands, err := s.regs.candidates(parsed)
	if err != nil {
		return nil, "", err
	}
	for i, c := range cands {
		img, err := remote.Image(c, s.remoteOptions(ctx)...)
		if err == nil {
			return img, c.Context().RegistryStr(), nil
		}
		if i == len(cands)-1 {
			err = classifyPull(ref, c.Context().RegistryStr(), err)
			if strings.Contains(err.Error(), "no child with platform") {
				err = s.platformError(ctx, ref, c)
			}
			return nil, "", err
		}
		s.log.Warn("registry mirror failed; trying the next source", "mirror", c.Context().RegistryStr(), "image", ref, "err", err)
	}
	return nil, "", errdefs.NotFound("image %q: no source", ref)
}

// platformError names the platforms an index offers when none is the host's.
func (s *ociStore) platformError(ctx context.Context, ref string, c name.Reference) error {
	var have []string
	if idx, err := remote.Index(c, s.remoteOptions(ctx)...); err == nil {
		if im, err := idx.IndexManifest(); err == nil {
			for _, m := range im.Manifests {
				if m.Platform != nil {
					have = append(have, m.Platform.OS+"/"+m.Platform.Architecture)
				}
			}
		}
	}
	return errdefs.InvalidArgument("image %q is for %s; this host is linux/%s", ref, strings.Join(have, ", "), runtime.GOARCH)
}

// checkPlatform refuses an image built for another OS or architecture.
func checkPlatform(ref string, cfg *v1.ConfigFile) error {
	if (cfg.Architecture != "" && cfg.Architecture != runtime.GOARCH) || (cfg.OS != "" && cfg.OS != "linux") {
		return errdefs.InvalidArgument("image %q is for %s/%s; this host is linux/%s", ref, cfg.OS, cfg.Architecture, runtime.GOARCH)
	}
	return nil
}

// configOf keeps what Paddock honours of an image config.
func configOf(cfg *v1.ConfigFile) sandbox.ImageConfig {
	return sandbox.ImageConfig{Env: cfg.Config.Env, WorkingDir: cfg.Config.WorkingDir, User: cfg.Config.User}
}

// openCounted opens a layer's blob as it travels (compressed), reports its bytes, and
// returns the uncompressed stream. Reaching its end drains the blob, so that
// go-containerregistry's digest check of the blob runs before the layer is kept.
func openCounted(l v1.Layer, p Progress, report ProgressFunc) (io.ReadCloser, error) {
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	cr := &countingReader{r: rc, progress: p, report: report, lastT: time.Now()}
	ul, err := partial.CompressedToLayer(blobLayer{l: l, rc: &readCloser{Reader: cr, Closer: rc}})
	if err != nil {
		rc.Close()
		return nil, err
	}
	u, err := ul.Uncompressed()
	if err != nil {
		rc.Close()
		return nil, err
	}
	return drainOnEOF{ReadCloser: u, rest: cr}, nil
}

// blobLayer hands an already opened blob to partial.CompressedToLayer, which sniffs its
// compression (gzip, zstd or none).
type blobLayer struct {
	l  v1.Layer
	rc io.ReadCloser
}

func (b blobLayer) Compressed() (io.ReadCloser, error)  { return b.rc, nil }
func (b blobLayer) Digest() (v1.Hash, error)            { return b.l.Digest() }
func (b blobLayer) Size() (int64, error)                { return b.l.Size() }
func (b blobLayer) MediaType() (types.MediaType, error) { return b.l.MediaType() }

type readCloser struct {
	io.Reader
	io.Closer
}

// drainOnEOF reads the rest of the blob when the uncompressed stream ends, returning the
// blob's verification error (digest or size mismatch) instead of EOF.
type drainOnEOF struct {
	io.ReadCloser
	rest *countingReader
}

// verify reads the rest of the blob and returns its verification error, if any.
func (d drainOnEOF) verify() error {
	_, err := io.Copy(io.Discard, d.rest)
	return err
}

func (d drainOnEOF) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		if _, derr := io.Copy(io.Discard, d.rest); derr != nil {
			return n, derr
		}
		d.rest.flush()
	}
	return n, err
}

// classifyPull turns registry failures into error classes that name the reference and the
// registry.
func classifyPull(ref, registry string, err error) error {
	if isClassed(err) {
		return err
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case 404:
			return errdefs.NotFound("image %q not found in %s", ref, registry)
		case 401, 403:
			return errdefs.New(errdefs.ErrPermissionDenied, "registry %s refused access to %q: check the credentials in your Docker config", registry, ref)
		case 500, 502, 503, 504:
			return errdefs.Unavailable("registry %s failed (HTTP %d) for %q", registry, te.StatusCode, ref)
		}
	}
	if strings.Contains(err.Error(), "error verifying") {
		return errdefs.InvalidArgument("image %q from %s: blob digest mismatch: %v", ref, registry, err)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errdefs.Unavailable("registry %s is unreachable: %v", registry, err)
	}
	return err
}

// isClassed reports whether err already carries an errdefs class.
func isClassed(err error) bool {
	for _, c := range []error{errdefs.ErrNotFound, errdefs.ErrInvalidArgument, errdefs.ErrPermissionDenied,
		errdefs.ErrUnavailable, errdefs.ErrResourceExhausted, errdefs.ErrFailedPrecondition} {
		if errors.Is(err, c) {
			return true
		}
	}
	return false
}
