package native

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/errdefs"
)

// DownloadParam is the query parameter of a download URL that carries its token.
const DownloadParam = "download"

// Downloads signs download URLs for the caller in ctx (account.Service does). Safe for
// concurrent use.
type Downloads interface {
	SignDownload(ctx context.Context, sandbox, path string, ttl time.Duration) (string, time.Time, error)
}

// DownloadTarget is the sandbox and file path that a download URL's request path names
// (/sandboxes/{name}/files/{path}), as the token was signed for; ok is false for other paths.
func DownloadTarget(urlPath string) (sandbox, path string, ok bool) {
	rest, ok := strings.CutPrefix(urlPath, "/sandboxes/")
	if !ok {
		return "", "", false
	}
	sandbox, path, ok = strings.Cut(rest, "/files/")
	if !ok || sandbox == "" || strings.Contains(sandbox, "/") || path == "" {
		return "", "", false
	}
	return sandbox, path, true
}

// downloadURL is POST /sandboxes/{name}/download-url (a Paddock extension): a URL that
// downloads one file's bytes without the API key for a short while, so that a browser can
// save a large file as it streams instead of holding it in memory.
func (a *API) downloadURL(w http.ResponseWriter, r *http.Request) error {
	if a.opts.Downloads == nil {
		return errdefs.Unavailable("download URLs are not offered by this server")
	}
	var req apitype.DownloadURLRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	p := strings.TrimLeft(req.Path, "/")
	if p == "" {
		return errdefs.InvalidArgument("path is required")
	}
	ttl := time.Minute
	if req.ExpiresIn != 0 {
		ttl = time.Duration(req.ExpiresIn) * time.Second
	}
	name := r.PathValue("name")
	// The caller must see the file now: a URL is not signed for what they could not read.
	if _, err := a.m.StatFile(r.Context(), name, "/"+p, ""); err != nil {
		return err
	}
	tok, exp, err := a.opts.Downloads.SignDownload(r.Context(), name, p, ttl)
	if err != nil {
		return err
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := "/sandboxes/" + url.PathEscape(name) + "/files/" + strings.Join(segs, "/") +
		"?raw=1&" + DownloadParam + "=" + url.QueryEscape(tok)
	return ok(w, http.StatusOK, apitype.DownloadURL{URL: u, ExpiresAt: exp.UTC().Format(time.RFC3339)})
}
