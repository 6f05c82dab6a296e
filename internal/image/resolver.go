// Package image resolves image references to root filesystems. Today it knows the built-in
// "base" image (the host's /usr read-only plus a generated /etc); OCI images plug in here.
package image

import (
	"context"
	"log/slog"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Base is the built-in image's name.
const Base = "base"

// Resolver implements sandbox.ImageResolver. Safe for concurrent use.
type Resolver struct {
	base *sandbox.Image
	log  *slog.Logger
}

var _ sandbox.ImageResolver = (*Resolver)(nil)

// NewResolver prepares the base image under dataDir (idempotently) and returns a resolver.
func NewResolver(dataDir string, logger *slog.Logger) (*Resolver, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	base, err := buildBase(dataDir)
	if err != nil {
		return nil, err
	}
	return &Resolver{base: base, log: logger}, nil
}

// Resolve implements sandbox.ImageResolver. "" means Base.
func (r *Resolver) Resolve(_ context.Context, ref string) (*sandbox.Image, error) {
	if ref == "" || ref == Base {
		img := *r.base
		img.Layers = append([]string(nil), r.base.Layers...)
		img.Binds = append([]sandbox.Bind(nil), r.base.Binds...)
		img.Config.Env = append([]string(nil), r.base.Config.Env...)
		return &img, nil
	}
	return nil, errdefs.NotFound("image %q not found (built-in images: base; OCI images are not supported yet)", ref)
}
