package fs

import (
	"compress/gzip"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paddock/paddock/internal/guest/guestenv"
)

// Sign computes the v1 signature of a presigned /files URL: base64 (raw, standard) of
// sha256("path:operation:user:token[:expiration]"), prefixed "v1_". expiration 0 = none.
func Sign(path, operation, user, token string, expiration int64) string {
	raw := path + ":" + operation + ":" + user + ":" + token
	if expiration > 0 {
		raw += ":" + strconv.FormatInt(expiration, 10)
	}
	sum := sha256.Sum256([]byte(raw))
	return "v1_" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// filesHandler serves GET and POST /files.
type filesHandler struct {
	settings *guestenv.Settings
	log      *slog.Logger
}

// NewFilesHandler returns the /files handler (GET downloads, POST uploads).
func NewFilesHandler(settings *guestenv.Settings, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &filesHandler{settings: settings, log: logger}
}

type fileError struct {
	code int
	msg  string
}

func (e *fileError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) error {
	return &fileError{code: code, msg: fmt.Sprintf(format, args...)}
}

func (h *filesHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var err error
	switch r.Method {
	case http.MethodGet:
		err = h.download(w, r)
	case http.MethodPost:
		err = h.upload(w, r)
	default:
		err = errorf(http.StatusMethodNotAllowed, "method %s not allowed", r.Method)
	}
	if err == nil {
		return
	}
	var fe *fileError
	if !errors.As(err, &fe) {
		fe = &fileError{code: http.StatusInternalServerError, msg: err.Error()}
		if errors.Is(err, syscall.ENOSPC) {
			fe.code = http.StatusInsufficientStorage
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(fe.code)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": fe.code, "message": fe.msg})
}

// authorize checks the access token or the URL signature and returns the acting user.
func (h *filesHandler) authorize(r *http.Request, operation string) (*guestenv.User, error) {
	q := r.URL.Query()
	username := q.Get("username")
	if token := h.settings.AccessToken(); token != "" {
		got := r.Header.Get("X-Access-Token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			if err := checkSignature(q.Get("path"), operation, username, token, q.Get("signature"), q.Get("signature_expiration")); err != nil {
				return nil, err
			}
		}
	}
	var u *guestenv.User
	var err error
	if username != "" {
		u, err = guestenv.LookupUser(username)
	} else {
		u, err = h.settings.Caller(r.Header)
	}
	if err != nil {
		return nil, errorf(http.StatusUnauthorized, "%v", err)
	}
	return u, nil
}

func checkSignature(path, operation, user, token, sig, exp string) error {
	if sig == "" {
		return errorf(http.StatusUnauthorized, "unauthorized access, please provide a valid access token or method signing if supported")
	}
	var expiration int64
	if exp != "" {
		n, err := strconv.ParseInt(exp, 10, 64)
		if err != nil {
			return errorf(http.StatusBadRequest, "invalid signature_expiration %q", exp)
		}
		if time.Now().Unix() > n {
			return errorf(http.StatusUnauthorized, "signature is already expired")
		}
		expiration = n
	}
	want := Sign(path, operation, user, token, expiration)
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return errorf(http.StatusUnauthorized, "invalid signature")
	}
	return nil
}

func (h *filesHandler) download(w http.ResponseWriter, r *http.Request) error {
	u, err := h.authorize(r, "read")
	if err != nil {
		return err
	}
	raw := r.URL.Query().Get("path")
	if raw == "" {
		return errorf(http.StatusBadRequest, "path is required")
	}
	p := guestenv.ResolvePath(raw, u)
	f, err := os.Open(p)
	if err != nil {
		if os.IsNotExist(err) {
			return errorf(http.StatusNotFound, "path %s not found", p)
		}
		return errorf(http.StatusBadRequest, "cannot open %s: %v", p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errorf(http.StatusBadRequest, "path %s is a directory", p)
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": filepath.Base(p)}))
	w.Header().Set("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/octet-stream")
		gz := gzip.NewWriter(w)
		if _, err := io.Copy(gz, f); err != nil {
			return nil // headers are out; the client sees a truncated body
		}
		return gz.Close()
	}
	http.ServeContent(w, r, filepath.Base(p), fi.ModTime(), f)
	return nil
}

func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") {
			return true
		}
	}
	return false
}

// uploaded is one entry of POST /files's answer.
type uploaded struct {
	Path     string            `json:"path"`
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

func (h *filesHandler) upload(w http.ResponseWriter, r *http.Request) error {
	u, err := h.authorize(r, "write")
	if err != nil {
		return err
	}
	meta, err := parseMetadata(r.Header)
	if err != nil {
		return err
	}
	q := r.URL.Query().Get("path")
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var out []uploaded
	if mt == "multipart/form-data" {
		out, err = h.uploadMultipart(r, params["boundary"], q, u, meta)
	} else {
		if q == "" {
			return errorf(http.StatusBadRequest, "path is required for a raw upload")
		}
		body := io.Reader(r.Body)
		if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
			gz, gerr := gzip.NewReader(r.Body)
			if gerr != nil {
				return errorf(http.StatusBadRequest, "invalid gzip body: %v", gerr)
			}
			defer gz.Close()
			body = gz
		}
		var e uploaded
		e, err = writeFile(guestenv.ResolvePath(q, u), body, u, meta)
		out = append(out, e)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(out)
}

func (h *filesHandler) uploadMultipart(r *http.Request, boundary, q string, u *guestenv.User, meta map[string]string) ([]uploaded, error) {
	if boundary == "" {
		return nil, errorf(http.StatusBadRequest, "multipart body without a boundary")
	}
	mr := multipart.NewReader(r.Body, boundary)
	seen := map[string]bool{}
	out := []uploaded{}
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid multipart body: %v", err)
		}
		_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		if params["name"] != "file" {
			part.Close()
			continue
		}
		dest := q
		if dest == "" {
			dest = params["filename"] // raw, with its directories (Part.FileName strips them)
		}
		if dest == "" {
			return nil, errorf(http.StatusBadRequest, "a file part has neither a path nor a filename")
		}
		p := guestenv.ResolvePath(dest, u)
		if seen[p] {
			return nil, errorf(http.StatusBadRequest, "path %s is given twice", p)
		}
		seen[p] = true
		e, err := writeFile(p, part, u, meta)
		part.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// writeFile streams r into path via a temporary file and a rename, so a symlink at path is
// replaced rather than followed and readers never see a half-written file.
func writeFile(path string, r io.Reader, u *guestenv.User, meta map[string]string) (uploaded, error) {
	e := uploaded{Path: path, Name: filepath.Base(path), Type: "file", Metadata: meta}
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		return e, errorf(http.StatusBadRequest, "path %s is a directory", path)
	}
	dir := filepath.Dir(path)
	if err := mkdirAllAs(dir, u); err != nil {
		return e, errorf(http.StatusBadRequest, "cannot create %s: %v", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".paddock-upload-*")
	if err != nil {
		return e, classifyWrite(err, path)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return e, classifyWrite(err, path)
	}
	if err := tmp.Chmod(0o644); err == nil {
		_ = tmp.Chown(int(u.UID), int(u.GID))
	}
	if err := tmp.Close(); err != nil {
		return e, classifyWrite(err, path)
	}
	if err := setMetadata(tmp.Name(), meta); err != nil {
		return e, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return e, classifyWrite(err, path)
	}
	return e, nil
}

func classifyWrite(err error, path string) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return errorf(http.StatusInsufficientStorage, "not enough space to write %s", path)
	case os.IsPermission(err), errors.Is(err, syscall.EROFS):
		return errorf(http.StatusForbidden, "cannot write %s: %v", path, err)
	}
	return fmt.Errorf("write %s: %w", path, err)
}
