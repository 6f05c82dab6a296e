package fs

import (
	"compress/gzip"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
)

// download serves GET /files?path=: the file's bytes through http.ServeContent (Range and
// conditional requests), or gzip-encoded when the client lists gzip. Files whose size is
// unknown (0, as in /proc) are streamed whole.
func (h *filesHandler) download(w http.ResponseWriter, r *http.Request) error {
	u, err := h.authorize(r, "read")
	if err != nil {
		return err
	}
	raw := r.URL.Query().Get("path")
	if raw == "" {
		return errdefs.InvalidArgument("path is required")
	}
	p := guestenv.ResolvePath(raw, u)
	f, fi, err := openRegular(p)
	if err != nil {
		return err
	}
	defer f.Close()
	// A range asks for the bytes as stored: prefer identity so ServeContent can honor it.
	enc, ok := negotiateEncoding(r.Header.Values("Accept-Encoding"), r.Header.Get("Range") != "")
	if !ok {
		return &statusError{http.StatusNotAcceptable, "no acceptable content encoding: only gzip and identity are supported"}
	}
	disposition := mime.FormatMediaType("inline", map[string]string{"filename": fi.Name()})
	if disposition == "" {
		disposition = "inline"
	}
	w.Header().Set("Content-Disposition", disposition)
	w.Header().Set("Vary", "Accept-Encoding")
	if enc == "identity" && fi.Size() > 0 {
		http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
		return nil
	}
	// Files of /proc and /sys say they are empty and cannot seek to their end, yet have
	// content: they (and empty files) are sent as reading gives them, without ranges.
	ctype := mime.TypeByExtension(filepath.Ext(fi.Name()))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	if enc == "gzip" {
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Last-Modified", fi.ModTime().UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	if enc == "identity" {
		_, err = io.Copy(w, f)
	} else {
		gz := gzip.NewWriter(w)
		if _, err = io.Copy(gz, f); err == nil {
			err = gz.Close()
		}
	}
	if err != nil {
		// The status is out: the client sees a truncated body.
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "download cut short",
			slog.String("path", p), slog.Any("err", err))
	}
	return nil
}

// openRegular opens path for reading; it must be a regular file (or a symlink to one).
// O_NONBLOCK keeps a FIFO from blocking the open.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, lookupError(path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, osError("stat", path, err)
	}
	switch {
	case fi.IsDir():
		f.Close()
		return nil, nil, errdefs.InvalidArgument("path %s is a directory", path)
	case !fi.Mode().IsRegular():
		f.Close()
		return nil, nil, errdefs.InvalidArgument("path %s is not a regular file", path)
	}
	return f, fi, nil
}

// negotiateEncoding picks "gzip" or "identity" from Accept-Encoding values. gzip is chosen
// only when listed with q > 0 (and, with preferIdentity, only if identity is refused);
// identity is acceptable unless refused by "identity;q=0" or by "*;q=0" without an identity
// entry. ok is false when neither is acceptable.
func negotiateEncoding(values []string, preferIdentity bool) (enc string, ok bool) {
	q := map[string]float64{}
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(item, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding == "" {
				continue
			}
			weight, valid := qValue(params)
			if !valid {
				continue
			}
			if coding == "x-gzip" {
				coding = "gzip"
			}
			q[coding] = weight
		}
	}
	gzipOK := q["gzip"] > 0
	identityOK := true
	if w, listed := q["identity"]; listed {
		identityOK = w > 0
	} else if w, listed := q["*"]; listed && w == 0 {
		identityOK = false
	}
	switch {
	case gzipOK && !(preferIdentity && identityOK):
		return "gzip", true
	case identityOK:
		return "identity", true
	}
	return "", false
}

// qValue parses the parameters of one Accept-Encoding item; no q means 1.
func qValue(params string) (float64, bool) {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || !(w >= 0 && w <= 1) { // rejects NaN too
			return 0, false
		}
		return w, true
	}
	return 1, true
}
