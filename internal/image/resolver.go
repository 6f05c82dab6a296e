// Package image resolves image references to root filesystems: the built-in "base" image
// (the host's /usr read-only under a generated skeleton) and OCI images, pulled from
// registries or imported from archives and directories, kept as shared unpacked layers.
package image

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Base is the built-in image's name; the empty reference means Base too.
const Base = "base"

// Resolver implements sandbox.ImageResolver over the built-in images. Safe for concurrent
// use: everything it holds is read-only after NewResolver.
type Resolver struct {
	builtins map[string]*sandbox.Image
	oci      *ociStore // everything else: OCI references pulled from registries
}

var _ sandbox.ImageResolver = (*Resolver)(nil)

// Option changes how a Resolver reaches registries or stores images.
type Option func(*options)

type options struct {
	regs        Registries
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	wrap        func(http.RoundTripper) http.RoundTripper
	importLimit int64
}

// WithRegistries sets per-registry settings (mirrors, plain-HTTP registries).
func WithRegistries(r Registries) Option { return func(o *options) { o.regs = r } }

// WithDialer replaces the network dialer of registry connections (tests map host names to
// registries on loopback with it).
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(o *options) { o.dial = dial }
}

// WithTransportWrapper wraps the HTTP transport of registry requests (to count or log them).
func WithTransportWrapper(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(o *options) { o.wrap = wrap }
}

// WithImportLimit caps the size of an imported archive (bytes; 0 = DefaultImportLimit).
func WithImportLimit(n int64) Option { return func(o *options) { o.importLimit = n } }

// DefaultImportLimit is the largest archive Import accepts unless told otherwise.
const DefaultImportLimit = 8 << 30

// NewResolver prepares the built-in images under dataDir/images (building the base skeleton
// on first use; concurrent calls, from any number of processes, are safe) and returns a
// resolver. Building the skeleton needs root: it chowns /home/user to 1000:1000.
func NewResolver(dataDir string, logger *slog.Logger, opts ...Option) (*Resolver, error) {
	o := options{importLimit: DefaultImportLimit}
	for _, opt := range opts {
		opt(&o)
	}
	if o.importLimit <= 0 {
		o.importLimit = DefaultImportLimit
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if dataDir == "" {
		return nil, errdefs.InvalidArgument("image resolver: no data dir")
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("image resolver: %w", err)
	}
	// Layers end up in overlayfs's lowerdir option, where ':' and ',' are separators.
	if strings.ContainsAny(abs, ":,") {
		return nil, errdefs.InvalidArgument("data dir %q contains ':' or ',', which overlayfs cannot take in a layer path", abs)
	}
	base, err := prepareBase(filepath.Join(abs, "images", Base), "/", logger)
	if err != nil {
		return nil, err
	}
	oci, err := newOCIStore(filepath.Join(abs, "images", "oci"))
	if err != nil {
		return nil, fmt.Errorf("image resolver: %w", err)
	}
	oci.regs, oci.log, oci.importLimit = o.regs, logger, o.importLimit
	oci.rt = newTransport(o.regs, o.dial, o.wrap)
	return &Resolver{builtins: map[string]*sandbox.Image{Base: base}, oci: oci}, nil
}

// Resolve implements sandbox.ImageResolver. It returns a copy the caller may modify.
func (r *Resolver) Resolve(ctx context.Context, ref string) (*sandbox.Image, error) {
	if ref == "" {
		ref = Base
	}
	if img, ok := r.builtins[ref]; ok {
		return cloneImage(img), nil
	}
	// Everything else is an OCI reference ("python:3.12", "ghcr.io/org/img@sha256:..."),
	// pulled once and unpacked into shared layers.
	return r.oci.resolve(ctx, ref)
}

func cloneImage(img *sandbox.Image) *sandbox.Image {
	c := *img
	c.Layers = append([]string(nil), img.Layers...)
	c.Binds = append([]sandbox.Bind(nil), img.Binds...)
	c.Config.Env = append([]string(nil), img.Config.Env...)
	return &c
}
