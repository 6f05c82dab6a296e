package kube

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Images is the sandbox.ImageResolver of the kube driver: nodes pull images, so Paddock pulls
// nothing and only checks references. "" and "base" stay "base", which the driver maps to
// its base image.
type Images struct{}

var _ sandbox.ImageResolver = Images{}

// Resolve implements sandbox.ImageResolver.
func (Images) Resolve(_ context.Context, ref string) (*sandbox.Image, error) {
	if ref == "" || ref == "base" {
		return &sandbox.Image{Ref: "base"}, nil
	}
	if _, err := name.ParseReference(ref, name.StrictValidation); err != nil {
		// Not strict: "python:3.12" names docker.io/library/python as nodes read it.
		if _, err := name.ParseReference(ref); err != nil {
			return nil, errdefs.InvalidArgument("image %q is not a valid image reference", ref)
		}
	}
	return &sandbox.Image{Ref: ref}, nil
}
