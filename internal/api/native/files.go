package native

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"

	fspb "github.com/paddock/paddock/proto/filesystem"
)

// smallFile is the size up to which a JSON read keeps the file in memory and reads it once;
// larger files are read twice (to learn whether they are UTF-8, then to send them), so that
// a request holds only buffers whatever the file's size.
const smallFile = 1 << 20

// octetStream is the media type of raw file bodies, both ways.
const octetStream = "application/octet-stream"

// filePath is the sandbox path named by the route's {path...}.
func filePath(r *http.Request) (string, error) {
	p := r.PathValue("path")
	if p == "" {
		return "", errdefs.InvalidArgument("a file path is required after /files/")
	}
	return "/" + p, nil
}

// isRaw reports whether the body or the answer is the file's bytes: a request with
// Content-Type application/octet-stream (writes), Accept application/octet-stream or
// ?raw=1 (reads).
func isRaw(r *http.Request, header string) bool {
	if header == "Accept" && r.URL.Query().Get("raw") == "1" {
		return true
	}
	for _, v := range r.Header.Values(header) {
		for _, item := range strings.Split(v, ",") {
			if mt, _, err := mime.ParseMediaType(strings.TrimSpace(item)); err == nil && mt == octetStream {
				return true
			}
		}
	}
	return false
}

func (a *API) writeFile(w http.ResponseWriter, r *http.Request) error {
	p, err := filePath(r)
	if err != nil {
		return err
	}
	var src io.Reader
	var size func() int64
	if isRaw(r, "Content-Type") {
		// Streamed to the guest as it arrives: no limit but the sandbox's disk.
		cr := &countingReader{r: r.Body}
		src, size = cr, func() int64 { return cr.n }
	} else if src, size, err = a.jsonContent(w, r); err != nil {
		return err
	}
	if err := a.m.WriteFile(r.Context(), r.PathValue("name"), p, "", src); err != nil {
		return err
	}
	return ok(w, http.StatusOK, apitype.FileWritten{Path: p, Size: size()})
}

// jsonContent decodes a JSON write's {content, encoding}. The body is held in memory (about
// twice the file for base64); raw writes stream instead.
func (a *API) jsonContent(w http.ResponseWriter, r *http.Request) (io.Reader, func() int64, error) {
	var req apitype.FileWrite
	// base64 inflates by 4/3; allow for it and the JSON around it.
	limit := a.opts.MaxFileBytes/3*4 + 4096
	if err := httpx.Decode(w, r, &req, limit, true, false); err != nil {
		if httpx.Status(err) == http.StatusRequestEntityTooLarge {
			return nil, nil, fmt.Errorf("%w: larger files go as a raw body (Content-Type: %s)", err, octetStream)
		}
		return nil, nil, err
	}
	if req.Content == nil {
		return nil, nil, errdefs.InvalidArgument("content is required")
	}
	var size int64
	switch req.Encoding {
	case "", "utf8", "utf-8":
		size = int64(len(*req.Content))
	case "base64":
		// Validated and measured before anything is written, then decoded as it is sent.
		n, err := io.Copy(io.Discard, base64.NewDecoder(base64.StdEncoding, strings.NewReader(*req.Content)))
		if err != nil {
			return nil, nil, errdefs.InvalidArgument("content is not valid base64: %v", err)
		}
		size = n
	default:
		return nil, nil, errdefs.InvalidArgument("encoding %q: use utf8 or base64", req.Encoding)
	}
	if size > a.opts.MaxFileBytes {
		return nil, nil, fmt.Errorf("file of %d bytes exceeds the %d-byte limit of JSON writes (send larger files as a raw body, Content-Type: %s): %w",
			size, a.opts.MaxFileBytes, octetStream, httpx.ErrTooLarge)
	}
	var src io.Reader = strings.NewReader(*req.Content)
	if req.Encoding == "base64" {
		src = base64.NewDecoder(base64.StdEncoding, src)
	}
	return src, func() int64 { return size }, nil
}

func (a *API) readFile(w http.ResponseWriter, r *http.Request) error {
	p, err := filePath(r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	info, err := a.m.StatFile(r.Context(), name, p, "")
	if err != nil {
		return err
	}
	if info.GetType() == fspb.FileType_FILE_TYPE_DIRECTORY {
		return errdefs.InvalidArgument("path %s is a directory", p)
	}
	// A symlink's own size says nothing about its target's; /proc files say 0 and are not.
	size := int64(-1)
	if info.GetType() == fspb.FileType_FILE_TYPE_FILE && info.GetSize() > 0 {
		size = info.GetSize()
	}
	if isRaw(r, "Accept") {
		return a.readRaw(w, r, name, p, size)
	}
	if size > a.opts.MaxFileBytes {
		return a.tooLarge(size)
	}
	return a.readJSON(w, r, name, p)
}

func (a *API) tooLarge(size int64) error {
	what := "the file"
	if size >= 0 {
		what = fmt.Sprintf("the file of %d bytes", size)
	}
	return fmt.Errorf("%s exceeds the %d-byte limit of JSON answers: download it raw (Accept: %s, or ?raw=1): %w",
		what, a.opts.MaxFileBytes, octetStream, httpx.ErrTooLarge)
}

// readRaw streams the file's bytes, with Content-Length when the size is known.
func (a *API) readRaw(w http.ResponseWriter, r *http.Request, name, p string, size int64) error {
	rc, err := a.m.ReadFile(r.Context(), name, p, "")
	if err != nil {
		return err
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", octetStream)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(p)}))
	h.Set("X-Content-Type-Options", "nosniff")
	var src io.Reader = rc
	if size >= 0 {
		// A file that grows meanwhile is cut at the size announced; one that shrinks ends the
		// answer short, which the client sees as an incomplete body.
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		src = io.LimitReader(rc, size)
	}
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, src); err != nil {
		// The status is out: break the answer, so that an unsized one cannot look complete.
		panic(http.ErrAbortHandler)
	}
	return nil
}

// readJSON answers {path, size, encoding, content}: utf8 for valid UTF-8, else base64. A
// file of up to smallFile bytes is read once into memory; a larger one is read once to
// learn its size and encoding (nothing kept) and again to encode it straight into the answer.
func (a *API) readJSON(w http.ResponseWriter, r *http.Request, name, p string) error {
	rc, err := a.m.ReadFile(r.Context(), name, p, "")
	if err != nil {
		return err
	}
	var head bytes.Buffer
	_, err = head.ReadFrom(io.LimitReader(rc, smallFile+1))
	if err != nil || head.Len() <= smallFile {
		rc.Close()
		if err != nil {
			return err
		}
		_ = writeFileJSON(w, p, int64(head.Len()), encodingOf(utf8.Valid(head.Bytes())), &head)
		return nil
	}
	var check utf8Check
	_, _ = check.Write(head.Bytes())
	n := int64(head.Len())
	head = bytes.Buffer{}
	size, err := io.Copy(&check, io.LimitReader(rc, a.opts.MaxFileBytes+1-n))
	rc.Close()
	if err != nil {
		return err
	}
	if size += n; size > a.opts.MaxFileBytes {
		return a.tooLarge(-1)
	}
	enc := encodingOf(check.Valid())
	if rc, err = a.m.RereadFile(r.Context(), name, p, ""); err != nil {
		return err
	}
	defer rc.Close()
	var again utf8Check
	if !writeFileJSON(w, p, size, enc, io.TeeReader(rc, &again)) || enc == "utf8" && !again.Valid() {
		// The file changed between the two reads: end the answer broken rather than wrong.
		panic(http.ErrAbortHandler)
	}
	return nil
}

func encodingOf(validUTF8 bool) string {
	if validUTF8 {
		return "utf8"
	}
	return "base64"
}

// writeFileJSON writes the envelope of a read, an apitype.File with size bytes of src as its
// content, encoded as it is written. It reports whether src gave exactly size bytes.
func writeFileJSON(w http.ResponseWriter, p string, size int64, enc string, src io.Reader) bool {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	_, _ = bw.WriteString(`{"success":true,"data":{"path":`)
	_ = httpx.WriteJSONString(bw, []byte(p))
	_, _ = fmt.Fprintf(bw, `,"size":%d,"encoding":"%s","content":`, size, enc)
	var n int64
	if enc == "base64" {
		_ = bw.WriteByte('"')
		b64 := base64.NewEncoder(base64.StdEncoding, bw) // its alphabet needs no escaping
		n, _ = io.Copy(b64, io.LimitReader(src, size+1))
		_ = b64.Close()
		_ = bw.WriteByte('"')
	} else {
		s := httpx.NewJSONString(bw)
		_ = s.Open()
		n, _ = io.Copy(s, io.LimitReader(src, size+1))
		_ = s.Close()
	}
	if n != size {
		return false
	}
	_, _ = bw.WriteString("}}\n")
	_ = bw.Flush() // the status is out: an error here is the client going away
	return true
}

// utf8Check validates UTF-8 written to it in any split, keeping nothing but a character cut
// between two writes.
type utf8Check struct {
	pend [utf8.UTFMax]byte
	np   int
	bad  bool
}

func (c *utf8Check) Write(p []byte) (int, error) {
	n := len(p)
	for c.np > 0 && len(p) > 0 && !c.bad {
		c.pend[c.np], p = p[0], p[1:]
		c.np++
		if utf8.FullRune(c.pend[:c.np]) {
			r, size := utf8.DecodeRune(c.pend[:c.np])
			c.bad = r == utf8.RuneError && size == 1
			c.np = 0
		}
	}
	if c.bad {
		return n, nil
	}
	// Keep an incomplete character at the end for the next write.
	cut := len(p)
	for i := len(p) - 1; i >= 0 && i > len(p)-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				cut = i
			}
			break
		}
	}
	c.bad = !utf8.Valid(p[:cut])
	c.np = copy(c.pend[:], p[cut:])
	return n, nil
}

// Valid reports whether everything written was valid UTF-8.
func (c *utf8Check) Valid() bool { return !c.bad && c.np == 0 }

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (a *API) deleteFile(w http.ResponseWriter, r *http.Request) error {
	p, err := filePath(r)
	if err != nil {
		return err
	}
	if err := a.m.DeleteFile(r.Context(), r.PathValue("name"), p, ""); err != nil {
		return err
	}
	return ok(w, http.StatusOK, apitype.Deleted{Deleted: true, Path: p})
}
