package native

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
)

// filePath is the sandbox path named by the route's {path...}.
func filePath(r *http.Request) (string, error) {
	p := r.PathValue("path")
	if p == "" {
		return "", errdefs.InvalidArgument("a file path is required after /files/")
	}
	return "/" + p, nil
}

func (a *API) writeFile(w http.ResponseWriter, r *http.Request) error {
	path, err := filePath(r)
	if err != nil {
		return err
	}
	var req struct {
		Content  *string `json:"content"`
		Encoding string  `json:"encoding"`
	}
	// base64 inflates by 4/3; allow for it and the JSON around it.
	limit := a.opts.MaxFileBytes/3*4 + 4096
	if err := httpx.Decode(w, r, &req, limit, true, false); err != nil {
		return err
	}
	if req.Content == nil {
		return errdefs.InvalidArgument("content is required")
	}
	var data []byte
	switch req.Encoding {
	case "", "utf8", "utf-8":
		data = []byte(*req.Content)
	case "base64":
		if data, err = base64.StdEncoding.DecodeString(*req.Content); err != nil {
			return errdefs.InvalidArgument("content is not valid base64: %v", err)
		}
	default:
		return errdefs.InvalidArgument("encoding %q: use utf8 or base64", req.Encoding)
	}
	if int64(len(data)) > a.opts.MaxFileBytes {
		return fmt.Errorf("file of %d bytes exceeds the %d-byte limit: %w", len(data), a.opts.MaxFileBytes, httpx.ErrTooLarge)
	}
	if err := a.m.WriteFile(r.Context(), r.PathValue("name"), path, "", bytes.NewReader(data)); err != nil {
		return err
	}
	return ok(w, http.StatusOK, map[string]any{"path": path, "size": len(data)})
}

func (a *API) readFile(w http.ResponseWriter, r *http.Request) error {
	path, err := filePath(r)
	if err != nil {
		return err
	}
	rc, err := a.m.ReadFile(r.Context(), r.PathValue("name"), path, "")
	if err != nil {
		return err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, a.opts.MaxFileBytes+1))
	if err != nil {
		return err
	}
	if int64(len(data)) > a.opts.MaxFileBytes {
		return fmt.Errorf("file exceeds the %d-byte limit of this API: %w", a.opts.MaxFileBytes, httpx.ErrTooLarge)
	}
	resp := map[string]any{"path": path, "size": len(data), "encoding": "utf8", "content": string(data)}
	if !utf8.Valid(data) {
		resp["encoding"], resp["content"] = "base64", base64.StdEncoding.EncodeToString(data)
	}
	return ok(w, http.StatusOK, resp)
}

func (a *API) deleteFile(w http.ResponseWriter, r *http.Request) error {
	path, err := filePath(r)
	if err != nil {
		return err
	}
	if err := a.m.DeleteFile(r.Context(), r.PathValue("name"), path, ""); err != nil {
		return err
	}
	return ok(w, http.StatusOK, map[string]any{"path": path, "deleted": true})
}
