package fs

import (
	"compress/gzip"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
)

// uploaded is one entry of POST /files's answer.
type uploaded struct {
	Path     string            `json:"path"`
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// upload serves POST /files: a multipart/form-data body whose "file" parts each name their
// destination, or a raw application/octet-stream body for ?path=. Bodies are streamed to
// disk, gzip-decoded first when Content-Encoding says gzip.
func (h *filesHandler) upload(w http.ResponseWriter, r *http.Request) error {
	u, err := h.authorize(r, "write")
	if err != nil {
		return err
	}
	meta, err := parseMetadata(r.Header)
	if err != nil {
		return err
	}
	body, err := decodeBody(r)
	if err != nil {
		return err
	}
	defer body.Close()
	query := r.URL.Query().Get("path")
	var out []uploaded
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "multipart/form-data":
		out, err = uploadParts(body, params["boundary"], query, u, meta)
	case "application/octet-stream", "":
		if query == "" {
			return errdefs.InvalidArgument("path is required for an application/octet-stream upload")
		}
		var res uploaded
		res, err = writeFile(guestenv.ResolvePath(query, u), body, u, meta)
		out = []uploaded{res}
	default:
		return errdefs.InvalidArgument("unsupported Content-Type %q: use multipart/form-data or application/octet-stream", mediaType)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// decodeBody returns the request body decoded per Content-Encoding (identity or gzip).
func decodeBody(r *http.Request) (io.ReadCloser, error) {
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return r.Body, nil
	case "gzip", "x-gzip":
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, errdefs.InvalidArgument("invalid gzip body: %v", err)
		}
		return gz, nil
	default:
		return nil, errdefs.InvalidArgument("unsupported Content-Encoding %q: use gzip or none", enc)
	}
}

// uploadParts writes every part named "file" of a multipart body, in order.
func uploadParts(body io.Reader, boundary, query string, u *guestenv.User, meta map[string]string) ([]uploaded, error) {
	if boundary == "" {
		return nil, errdefs.InvalidArgument("multipart body without a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	seen := map[string]bool{}
	var out []uploaded
	for {
		// NextRawPart: parts are taken as sent, without quoted-printable decoding.
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errdefs.InvalidArgument("invalid multipart body: %v", err)
		}
		dest, isFile, err := partTarget(part.Header.Get("Content-Disposition"), query, u)
		if err != nil || !isFile {
			part.Close()
			if err != nil {
				return nil, err
			}
			continue
		}
		if seen[dest] {
			part.Close()
			return nil, errdefs.InvalidArgument("path %s is given more than once", dest)
		}
		seen[dest] = true
		res, err := writeFile(dest, part, u, meta)
		part.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	if len(out) == 0 {
		return nil, errdefs.InvalidArgument("no part named file in the multipart body")
	}
	return out, nil
}

// partTarget reads a part's Content-Disposition. isFile is false for parts not named
// "file". The destination is query when set, else the raw filename parameter with its
// directories (Part.FileName would keep only the base name), resolved for u.
func partTarget(disposition, query string, u *guestenv.User) (dest string, isFile bool, err error) {
	_, params, err := mime.ParseMediaType(disposition)
	if err != nil {
		return "", false, errdefs.InvalidArgument("invalid Content-Disposition of a part: %v", err)
	}
	if params["name"] != "file" {
		return "", false, nil
	}
	dest = query
	if dest == "" {
		dest = params["filename"]
	}
	switch {
	case dest == "":
		return "", false, errdefs.InvalidArgument("a file part has neither a path query nor a filename")
	case strings.IndexByte(dest, 0) >= 0:
		return "", false, errdefs.InvalidArgument("path %q contains a NUL byte", dest)
	}
	return guestenv.ResolvePath(dest, u), true, nil
}
