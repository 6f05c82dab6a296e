package agentsandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"

	fspb "github.com/paddock/paddock/proto/filesystem"
)

// fileEntry is Agent-Sandbox's SandboxFileEntry.
type fileEntry struct {
	Name  string `json:"name"`
	Path  string `json:"path"`
	IsDir bool   `json:"isDir"`
	Size  int64  `json:"size"`
}

// The answers of the files routes: Agent-Sandbox's SandboxFilesListResult,
// SandboxFileUploadResult and SandboxFileDeleteResult (pod is the sandbox's ID).
type (
	filesList struct {
		Sandbox   string      `json:"sandbox"`
		Pod       string      `json:"pod"`
		Container string      `json:"container"`
		Path      string      `json:"path"`
		Entries   []fileEntry `json:"entries"`
		FetchedAt time.Time   `json:"fetchedAt"`
	}
	fileUploaded struct {
		Sandbox    string    `json:"sandbox"`
		Pod        string    `json:"pod"`
		Container  string    `json:"container"`
		Path       string    `json:"path"`
		FileName   string    `json:"fileName"`
		Size       int64     `json:"size"`
		UploadedAt time.Time `json:"uploadedAt"`
	}
	fileDeleted struct {
		Sandbox   string    `json:"sandbox"`
		Pod       string    `json:"pod"`
		Container string    `json:"container"`
		Path      string    `json:"path"`
		DeletedAt time.Time `json:"deletedAt"`
	}
)

// sandboxPath makes the path query parameter absolute and clean ("" is /), as Agent-Sandbox
// does. The guest resolves it inside the sandbox.
func sandboxPath(p string) string {
	return path.Clean("/" + strings.TrimSpace(p))
}

// requiredPath is the path parameter of the routes that act on one file: / is refused.
func requiredPath(r *http.Request) (string, error) {
	p := sandboxPath(r.URL.Query().Get("path"))
	if p == "/" {
		return "", errdefs.InvalidArgument("path is required")
	}
	return p, nil
}

// listFiles lists one directory: directories first, then by name, case-insensitively.
func (a *API) listFiles(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.sandboxNamed(r)
	if err != nil {
		return err
	}
	dir := sandboxPath(r.URL.Query().Get("path"))
	if err := a.checkDir(r.Context(), sb.ID, dir); err != nil {
		return err
	}
	infos, err := a.m.ListFiles(r.Context(), sb.ID, dir, "", 1)
	if err != nil {
		return err
	}
	entries := make([]fileEntry, 0, len(infos))
	for _, e := range infos {
		isDir := e.GetType() == fspb.FileType_FILE_TYPE_DIRECTORY
		size := e.GetSize()
		if isDir {
			size = 0
		}
		entries = append(entries, fileEntry{Name: e.GetName(), Path: e.GetPath(), IsDir: isDir, Size: size})
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].IsDir != entries[j].IsDir {
			return entries[i].IsDir
		}
		return strings.ToLower(entries[i].Name) < strings.ToLower(entries[j].Name)
	})
	return ok(w, filesList{Sandbox: sb.Name, Pod: sb.ID, Container: container, Path: dir, Entries: entries,
		FetchedAt: time.Now().UTC()})
}

// checkDir refuses a path that is not a directory (400), as Agent-Sandbox does.
func (a *API) checkDir(ctx context.Context, id, dir string) error {
	info, err := a.m.StatFile(ctx, id, dir, "")
	if errdefs.IsNotFound(err) || (err == nil && info.GetType() != fspb.FileType_FILE_TYPE_DIRECTORY) {
		return errdefs.InvalidArgument("path is not a directory: %s", dir)
	}
	return err
}

// upload streams the multipart part "file" into the directory ?path= (default /) under the
// part's file name, as it arrives: at most MaxFileBytes of it, never held in memory.
func (a *API) upload(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.sandboxNamed(r)
	if err != nil {
		return err
	}
	dir := sandboxPath(r.URL.Query().Get("path"))
	if err := a.checkDir(r.Context(), sb.ID, dir); err != nil {
		return err
	}
	// The body is the file plus the multipart framing and any other fields.
	r.Body = http.MaxBytesReader(w, r.Body, a.opts.MaxFileBytes+a.opts.MaxBodyBytes)
	part, err := filePart(r)
	if err != nil {
		return err
	}
	defer part.Close()
	name := path.Base(strings.TrimSpace(part.FileName()))
	if name == "" || name == "." || name == "/" || name == ".." {
		return errdefs.InvalidArgument("invalid filename %q", part.FileName())
	}
	target := path.Join(dir, name)
	src := &cappedReader{r: part, left: a.opts.MaxFileBytes}
	if err := a.m.WriteFile(r.Context(), sb.ID, target, "", src); err != nil {
		if src.err != nil {
			err = src.err
			// Leave no partial file behind.
			_ = a.m.DeleteFile(context.WithoutCancel(r.Context()), sb.ID, target, "")
		}
		return err
	}
	return ok(w, fileUploaded{Sandbox: sb.Name, Pod: sb.ID, Container: container, Path: dir, FileName: name,
		Size: src.n, UploadedAt: time.Now().UTC()})
}

// filePart finds the part named "file" of a multipart body, skipping the parts before it.
func filePart(r *http.Request) (interface {
	io.ReadCloser
	FileName() string
}, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		return nil, errdefs.InvalidArgument("the body must be multipart/form-data with the file in the part \"file\"")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errdefs.InvalidArgument("multipart body: %v", err)
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, errdefs.InvalidArgument("file is required: send it in the multipart part \"file\"")
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("body exceeds %d bytes: %w", tooBig.Limit, httpx.ErrTooLarge)
		}
		if err != nil {
			return nil, errdefs.InvalidArgument("multipart body: %v", err)
		}
		if p.FormName() == "file" {
			return p, nil
		}
		_ = p.Close()
	}
}

// cappedReader passes at most left bytes through, then fails with a too-large error, which
// it keeps (the writer's error may wrap it in something else). It also keeps the body's own
// too-large error.
type cappedReader struct {
	r    io.Reader
	left int64
	n    int64
	err  error
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a file of exactly the limit from a larger one.
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			c.err = fmt.Errorf("file exceeds %d bytes: %w", c.n, httpx.ErrTooLarge)
			return 0, c.err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.left -= int64(n)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		c.err = fmt.Errorf("body exceeds %d bytes: %w", tooBig.Limit, httpx.ErrTooLarge)
		return n, c.err
	}
	return n, err
}

// deleteFile removes ?path= (recursively, when it is a directory).
func (a *API) deleteFile(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.sandboxNamed(r)
	if err != nil {
		return err
	}
	p, err := requiredPath(r)
	if err != nil {
		return err
	}
	if _, err := a.m.StatFile(r.Context(), sb.ID, p, ""); err != nil {
		return err
	}
	if err := a.m.DeleteFile(r.Context(), sb.ID, p, ""); err != nil {
		return err
	}
	return ok(w, fileDeleted{Sandbox: sb.Name, Pod: sb.ID, Container: container, Path: p, DeletedAt: time.Now().UTC()})
}

// download streams the file ?path= as an attachment, byte for byte.
func (a *API) download(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.sandboxNamed(r)
	if err != nil {
		return err
	}
	p, err := requiredPath(r)
	if err != nil {
		return err
	}
	info, err := a.m.StatFile(r.Context(), sb.ID, p, "")
	if err != nil {
		return err
	}
	if info.GetType() == fspb.FileType_FILE_TYPE_DIRECTORY {
		return errdefs.InvalidArgument("path is a directory: %s", p)
	}
	rc, err := a.m.ReadFile(r.Context(), sb.ID, p, "")
	if err != nil {
		return err
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(p)}))
	if info.GetType() == fspb.FileType_FILE_TYPE_FILE {
		h.Set("Content-Length", strconv.FormatInt(info.GetSize(), 10))
	}
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		// The status is sent: all that is left is to cut the answer short.
		a.log.Warn("download cut short", "req", httpx.RequestID(r.Context()), "sandbox", sb.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
