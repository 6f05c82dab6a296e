package image

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

var _ sandbox.ImageManager = (*Resolver)(nil)

// ListImages implements sandbox.ImageManager: the built-in images and every pulled one.
func (r *Resolver) ListImages(context.Context) ([]sandbox.ImageInfo, error) {
	out := []sandbox.ImageInfo{}
	for ref, img := range r.builtins {
		out = append(out, sandbox.ImageInfo{Ref: ref, Layers: append([]string(nil), img.Layers...)})
	}
	recs, err := r.oci.records()
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		img := r.oci.image(rec)
		out = append(out, sandbox.ImageInfo{Ref: rec.Ref, Digest: rec.Digest, Layers: img.Layers})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}

// RemoveImage implements sandbox.ImageManager. Built-in images cannot be removed.
func (r *Resolver) RemoveImage(_ context.Context, ref string, inUse map[string]bool) error {
	if _, ok := r.builtins[ref]; ok {
		return errdefs.InvalidArgument("%q is built in and cannot be removed", ref)
	}
	r.oci.mu.Lock()
	defer r.oci.mu.Unlock()
	if err := os.Remove(refFile(r.oci.dir, ref)); err != nil {
		if os.IsNotExist(err) {
			return errdefs.NotFound("image %q not found", ref)
		}
		return err
	}
	keep := map[string]bool{}
	for k := range inUse {
		keep[k] = true
	}
	recs, err := r.oci.records()
	if err != nil {
		return err
	}
	for _, rec := range recs {
		for _, l := range r.oci.image(rec).Layers {
			keep[l] = true
		}
	}
	ents, err := os.ReadDir(filepath.Join(r.oci.dir, "layers"))
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := filepath.Join(r.oci.dir, "layers", e.Name())
		if !keep[p] && !strings.HasPrefix(e.Name(), ".") {
			if err := os.RemoveAll(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// records reads every refs/*.json.
func (s *ociStore) records() ([]record, error) {
	ents, err := os.ReadDir(filepath.Join(s.dir, "refs"))
	if err != nil {
		return nil, err
	}
	var out []record
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, "refs", e.Name()))
		if err != nil {
			continue
		}
		var rec record
		if json.Unmarshal(b, &rec) == nil {
			out = append(out, rec)
		}
	}
	return out, nil
}
