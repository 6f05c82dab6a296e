package fs_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/guest/fs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/proto/filesystem/filesystemconnect"
)

// strangerUID has no /etc/passwd entry: as a Basic-auth user it resolves to uid 54321 with
// home "/", and files it owns show the number as owner.
const strangerUID = 54321

const stranger = "54321"

// env is a guest filesystem service and /files handler on a test server, with a scratch
// directory.
type env struct {
	dir      string
	url      string
	svc      *fs.Service
	client   filesystemconnect.FilesystemClient
	settings *guestenv.Settings
	http     *http.Client
}

func newEnv(t *testing.T, token string) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (chown, xattrs on any file): run go test as root")
	}
	settings := guestenv.New("0")
	if token != "" {
		settings.Apply(guestproto.InitRequest{AccessToken: &token})
	}
	svc := fs.NewService(settings, nil)
	mux := http.NewServeMux()
	mux.Handle(filesystemconnect.NewFilesystemHandler(svc))
	mux.Handle("/files", fs.NewFilesHandler(settings, nil))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { svc.Close(); srv.Close() })
	return &env{
		dir: t.TempDir(), url: srv.URL, svc: svc, settings: settings, http: srv.Client(),
		client: filesystemconnect.NewFilesystemClient(srv.Client(), srv.URL),
	}
}

func (e *env) path(p string) string { return filepath.Join(e.dir, p) }

// write creates a file (and its parents) under the scratch directory.
func (e *env) write(t *testing.T, p, content string) string {
	t.Helper()
	full := e.path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return full
}

// as makes req act as user through HTTP Basic auth, as the SDKs do.
func as[T any](req *connect.Request[T], user string) *connect.Request[T] {
	req.Header().Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":")))
	return req
}

// do sends a plain HTTP request to the test server and returns the response and its body.
// The transport never asks for or decodes compression by itself.
func (e *env) do(t *testing.T, method, rawURL string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func codeOf(err error) string {
	if err == nil {
		return "ok"
	}
	return connect.CodeOf(err).String()
}
