package native

import (
	"context"
	"net/http"
	"strings"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/image"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// pullEvent is the progress event p of a streamed pull (and of /run/stream while it pulls).
func pullEvent(p image.Progress) apitype.PullEvent {
	return apitype.PullEvent{Stage: "pulling", PullProgress: apitype.PullProgress{Ref: p.Ref, Layer: p.Layer,
		Index: p.Index, Layers: p.Layers, Current: p.Current, Total: p.Total, Done: p.Done, Cached: p.Cached}}
}

func (a *API) listImages(w http.ResponseWriter, r *http.Request) error {
	imgs, err := a.m.Images(r.Context())
	if err != nil {
		return err
	}
	out := make([]apitype.Image, 0, len(imgs))
	for _, i := range imgs {
		out = append(out, apitype.Image{Ref: i.Ref, Digest: i.Digest, Layers: len(i.Layers)})
	}
	return ok(w, http.StatusOK, out)
}

// pullImage is POST /images/pull. With "Accept: text/event-stream" it answers with
// server-sent events: progress {stage: "pulling", ...} while layers download, then done
// {ref, layers} or error {message}.
func (a *API) pullImage(w http.ResponseWriter, r *http.Request) error {
	var req apitype.PullRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	if strings.TrimSpace(req.Ref) == "" {
		return errdefs.InvalidArgument("ref is required, e.g. \"python:3.12-alpine\"")
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		img, err := a.m.PullImage(r.Context(), req.Ref)
		if err != nil {
			return err
		}
		return ok(w, http.StatusOK, apitype.Image{Ref: req.Ref, Layers: len(img.Layers)})
	}
	// Refused before the stream starts, so that the refusal is a status code.
	if err := manager.RequireAdmin(r.Context(), "pull images"); err != nil {
		return err
	}
	sse, err := httpx.NewSSE(w)
	if err != nil {
		return err
	}
	img, err := a.pullWithEvents(r.Context(), sse, req.Ref, a.m.PullImage)
	if err != nil {
		_ = sse.Send("error", apitype.StreamError{Message: httpx.PublicMessage(err, httpx.RequestID(r.Context()))})
		return nil
	}
	_ = sse.Send("done", apitype.Image{Ref: req.Ref, Layers: len(img.Layers)})
	return nil
}

// pullWithEvents makes sure ref is present with pull, sending progress events while it pulls. A slow
// client never holds the pull up (which other callers may share): intermediate updates
// are dropped when it lags; first and last updates of a layer are not.
func (a *API) pullWithEvents(ctx context.Context, sse *httpx.SSE, ref string,
	pull func(context.Context, string) (*sandbox.Image, error)) (*sandbox.Image, error) {
	events := make(chan image.Progress, 256)
	pctx := image.WithProgress(ctx, func(p image.Progress) {
		if p.Done || p.Layer == "" {
			select {
			case events <- p:
			case <-ctx.Done():
			}
			return
		}
		select {
		case events <- p:
		default:
		}
	})
	type result struct {
		img *sandbox.Image
		err error
	}
	done := make(chan result, 1)
	go func() {
		img, err := pull(pctx, ref)
		done <- result{img, err} // no update follows: the pull's subscription ended
	}()
	send := func(p image.Progress) { _ = sse.Send("progress", pullEvent(p)) }
	for {
		select {
		case p := <-events:
			send(p)
		case res := <-done:
			for {
				select {
				case p := <-events:
					send(p)
				default:
					return res.img, res.err
				}
			}
		}
	}
}

func (a *API) removeImage(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("ref")
	if err := a.m.RemoveImage(r.Context(), ref); err != nil {
		return err
	}
	return ok(w, http.StatusOK, apitype.Deleted{Deleted: true, Ref: ref})
}

// importImage is POST /images/import?name=REF with the archive as the body (a docker save
// tarball, an OCI layout tar or a root filesystem tar, optionally gzipped). The body is
// streamed to disk; the server's max-import-bytes caps it.
func (a *API) importImage(w http.ResponseWriter, r *http.Request) error {
	ref := r.URL.Query().Get("name")
	if strings.TrimSpace(ref) == "" {
		return errdefs.InvalidArgument("name is required: POST /images/import?name=myimage:1 with the archive as the body")
	}
	info, err := a.m.ImportImage(r.Context(), ref, r.Body)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, apitype.Image{Ref: info.Ref, Digest: info.Digest, Layers: len(info.Layers)})
}

func (a *API) pruneImages(w http.ResponseWriter, r *http.Request) error {
	rep, err := a.m.PruneImages(r.Context())
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, apitype.PruneResult{LayersRemoved: len(rep.Layers), BytesFreed: rep.Bytes})
}
