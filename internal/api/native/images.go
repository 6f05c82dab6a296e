package native

import (
	"net/http"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
)

// imageView is an image as this surface shows it.
type imageView struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest,omitempty"`
	Layers int    `json:"layers"`
}

func (a *API) listImages(w http.ResponseWriter, r *http.Request) error {
	imgs, err := a.m.Images(r.Context())
	if err != nil {
		return err
	}
	out := make([]imageView, 0, len(imgs))
	for _, i := range imgs {
		out = append(out, imageView{Ref: i.Ref, Digest: i.Digest, Layers: len(i.Layers)})
	}
	return ok(w, http.StatusOK, out)
}

func (a *API) pullImage(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Ref string `json:"ref"`
	}
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	if strings.TrimSpace(req.Ref) == "" {
		return errdefs.InvalidArgument("ref is required, e.g. \"python:3.12-alpine\"")
	}
	img, err := a.m.PullImage(r.Context(), req.Ref)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, imageView{Ref: req.Ref, Layers: len(img.Layers)})
}

func (a *API) removeImage(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("ref")
	if err := a.m.RemoveImage(r.Context(), ref); err != nil {
		return err
	}
	return ok(w, http.StatusOK, map[string]any{"ref": ref, "deleted": true})
}
