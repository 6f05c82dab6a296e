package manager

import (
	"context"
	"io"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// ImportImage stores an image archive (docker save, OCI layout or root filesystem tar,
// optionally gzipped) under ref.
func (m *Manager) ImportImage(ctx context.Context, ref string, archive io.Reader) (*sandbox.ImageInfo, error) {
	if err := RequireAdmin(ctx, "import images"); err != nil {
		return nil, err
	}
	im, ok := m.images.(sandbox.ImageManager)
	if !ok {
		return nil, errdefs.FailedPrecondition("this image resolver keeps no images")
	}
	return im.ImportImage(ctx, ref, archive)
}

// PruneImages removes the layers no image references; layers of existing sandboxes, in
// any state, are kept.
func (m *Manager) PruneImages(ctx context.Context) (sandbox.PruneReport, error) {
	if err := RequireAdmin(ctx, "prune images"); err != nil {
		return sandbox.PruneReport{}, err
	}
	im, ok := m.images.(sandbox.ImageManager)
	if !ok {
		return sandbox.PruneReport{}, errdefs.FailedPrecondition("this image resolver keeps no images")
	}
	inUse, err := m.layersInUse(ctx)
	if err != nil {
		return sandbox.PruneReport{}, err
	}
	return im.PruneImages(ctx, inUse)
}

// layersInUse lists the layer paths of every sandbox the store knows.
func (m *Manager) layersInUse(ctx context.Context) (map[string]bool, error) {
	sbs, err := m.store.ListSandboxes(ctx, sandbox.ListFilter{})
	if err != nil {
		return nil, err
	}
	inUse := map[string]bool{}
	for _, sb := range sbs {
		for _, l := range sb.Instance.Image.Layers {
			inUse[l] = true
		}
	}
	return inUse, nil
}
