package fs_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/guest/fs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	pb "github.com/paddock/paddock/proto/filesystem"
	"github.com/paddock/paddock/proto/filesystem/filesystemconnect"
)

type env struct {
	dir      string
	url      string
	client   filesystemconnect.FilesystemClient
	settings *guestenv.Settings
	http     *http.Client
}

func newEnv(t *testing.T, token string) *env {
	t.Helper()
	settings := guestenv.New("0")
	if token != "" {
		settings.Apply(guestenv.InitRequest{AccessToken: &token})
	}
	svc := fs.NewService(settings, nil)
	mux := http.NewServeMux()
	mux.Handle(filesystemconnect.NewFilesystemHandler(svc))
	files := fs.NewFilesHandler(settings, nil)
	mux.Handle("/files", files)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { svc.Close(); srv.Close() })
	return &env{dir: t.TempDir(), url: srv.URL, settings: settings, http: srv.Client(),
		client: filesystemconnect.NewFilesystemClient(srv.Client(), srv.URL)}
}

func (e *env) path(p string) string { return filepath.Join(e.dir, p) }

func TestRPCs(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	mk, err := e.client.MakeDir(ctx, connect.NewRequest(&pb.MakeDirRequest{Path: e.path("a/b/c")}))
	if err != nil || mk.Msg.GetEntry().GetType() != pb.FileType_FILE_TYPE_DIRECTORY {
		t.Fatalf("mkdir: %v %v", mk, err)
	}
	if _, err := e.client.MakeDir(ctx, connect.NewRequest(&pb.MakeDirRequest{Path: e.path("a/b/c")})); connect.CodeOf(err) != connect.CodeAlreadyExists {
		t.Errorf("mkdir existing: %v", err)
	}
	_ = os.WriteFile(e.path("a/f.txt"), []byte("12345"), 0o640)
	_ = os.Symlink("f.txt", e.path("a/link"))
	st, err := e.client.Stat(ctx, connect.NewRequest(&pb.StatRequest{Path: e.path("a/f.txt")}))
	if err != nil {
		t.Fatal(err)
	}
	en := st.Msg.GetEntry()
	if en.GetSize() != 5 || en.GetPermissions() != "-rw-r-----" || en.GetMode() != 0o640 || en.GetName() != "f.txt" || en.GetOwner() == "" {
		t.Errorf("stat = %v", en)
	}
	ln, _ := e.client.Stat(ctx, connect.NewRequest(&pb.StatRequest{Path: e.path("a/link")}))
	if ln.Msg.GetEntry().GetType() != pb.FileType_FILE_TYPE_SYMLINK || ln.Msg.GetEntry().GetSymlinkTarget() != "f.txt" {
		t.Errorf("symlink stat = %v", ln.Msg.GetEntry())
	}
	l1, _ := e.client.ListDir(ctx, connect.NewRequest(&pb.ListDirRequest{Path: e.path("a")}))
	l2, _ := e.client.ListDir(ctx, connect.NewRequest(&pb.ListDirRequest{Path: e.path("a"), Depth: 2}))
	if len(l1.Msg.GetEntries()) != 3 || len(l2.Msg.GetEntries()) != 4 {
		t.Errorf("list depth1 %d depth2 %d entries, want 3 and 4", len(l1.Msg.GetEntries()), len(l2.Msg.GetEntries()))
	}
	if _, err := e.client.ListDir(ctx, connect.NewRequest(&pb.ListDirRequest{Path: e.path("a/f.txt")})); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("list a file: %v", err)
	}
	mv, err := e.client.Move(ctx, connect.NewRequest(&pb.MoveRequest{Source: e.path("a/f.txt"), Destination: e.path("x/y/g.txt")}))
	if err != nil || mv.Msg.GetEntry().GetName() != "g.txt" {
		t.Errorf("move: %v %v", mv, err)
	}
	if _, err := e.client.Move(ctx, connect.NewRequest(&pb.MoveRequest{Source: e.path("nope"), Destination: e.path("z")})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("move missing: %v", err)
	}
	if _, err := e.client.Remove(ctx, connect.NewRequest(&pb.RemoveRequest{Path: e.path("a")})); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Stat(ctx, connect.NewRequest(&pb.StatRequest{Path: e.path("a")})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("stat removed: %v", err)
	}
}

func TestWatchDir(t *testing.T) {
	e := newEnv(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := connect.NewRequest(&pb.WatchDirRequest{Path: e.dir, Recursive: true, IncludeEntry: true})
	req.Header().Set("Keepalive-Ping-Interval", "1")
	stream, err := e.client.WatchDir(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() || stream.Msg().GetStart() == nil {
		t.Fatalf("first message is not start: %v %v", stream.Msg(), stream.Err())
	}
	go func() {
		_ = os.Mkdir(e.path("sub"), 0o755)
		time.Sleep(100 * time.Millisecond)
		_ = os.WriteFile(e.path("sub/new.txt"), []byte("x"), 0o644)
		_ = os.Rename(e.path("sub/new.txt"), e.path("sub/moved.txt"))
		_ = os.Remove(e.path("sub/moved.txt"))
	}()
	seen := map[string]bool{}
	keepalive := false
	deadline := time.After(10 * time.Second)
	for !(seen["CREATE sub/new.txt"] && seen["REMOVE sub/moved.txt"] && seen["RENAME sub/new.txt"] && keepalive) {
		got := make(chan bool, 1)
		go func() { got <- stream.Receive() }()
		select {
		case ok := <-got:
			if !ok {
				t.Fatal(stream.Err())
			}
		case <-deadline:
			t.Fatalf("events so far: %v (keepalive %v)", seen, keepalive)
		}
		if stream.Msg().GetKeepalive() != nil {
			keepalive = true
		}
		if ev := stream.Msg().GetFilesystem(); ev != nil {
			seen[strings.TrimPrefix(ev.GetType().String(), "EVENT_TYPE_")+" "+ev.GetName()] = true
			if ev.GetType() == pb.EventType_EVENT_TYPE_CREATE && ev.GetName() == "sub" && ev.GetEntry().GetType() != pb.FileType_FILE_TYPE_DIRECTORY {
				t.Error("include_entry set but create event has no entry")
			}
		}
	}
}

func TestPollingWatcher(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	w, err := e.client.CreateWatcher(ctx, connect.NewRequest(&pb.CreateWatcherRequest{Path: e.dir}))
	if err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(e.path("p.txt"), []byte("x"), 0o644)
	var evs []*pb.FilesystemEvent
	for i := 0; i < 50 && len(evs) == 0; i++ {
		time.Sleep(20 * time.Millisecond)
		r, err := e.client.GetWatcherEvents(ctx, connect.NewRequest(&pb.GetWatcherEventsRequest{WatcherId: w.Msg.GetWatcherId()}))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, r.Msg.GetEvents()...)
	}
	if len(evs) == 0 || evs[0].GetName() != "p.txt" {
		t.Errorf("events %v", evs)
	}
	if _, err := e.client.RemoveWatcher(ctx, connect.NewRequest(&pb.RemoveWatcherRequest{WatcherId: w.Msg.GetWatcherId()})); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetWatcherEvents(ctx, connect.NewRequest(&pb.GetWatcherEventsRequest{WatcherId: w.Msg.GetWatcherId()})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("removed watcher: %v", err)
	}
	if _, err := e.client.CreateWatcher(ctx, connect.NewRequest(&pb.CreateWatcherRequest{Path: e.path("missing")})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("watch missing dir: %v", err)
	}
}

func (e *env) do(t *testing.T, method, rawURL string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, e.url+rawURL, body)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestFilesUploadDownload(t *testing.T) {
	e := newEnv(t, "")
	// Multipart with directory-bearing filenames and no path query.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, name := range []string{e.path("m/one.txt"), e.path("m/deep/two.txt")} {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name="file"; filename="%s"`, name)}
		pw, _ := mw.CreatePart(h)
		_, _ = pw.Write([]byte("content of " + filepath.Base(name)))
	}
	mw.Close()
	resp, b := e.do(t, "POST", "/files", &body, map[string]string{"Content-Type": mw.FormDataContentType(), "X-Metadata-Owner": "Alice"})
	var out []map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || len(out) != 2 || out[1]["path"] != e.path("m/deep/two.txt") {
		t.Fatalf("multipart upload: %d %s", resp.StatusCode, b)
	}
	got, _ := os.ReadFile(e.path("m/deep/two.txt"))
	if string(got) != "content of two.txt" {
		t.Errorf("file content %q", got)
	}
	st, err := e.client.Stat(context.Background(), connect.NewRequest(&pb.StatRequest{Path: e.path("m/one.txt")}))
	if err != nil || st.Msg.GetEntry().GetMetadata()["owner"] != "Alice" {
		t.Errorf("metadata round trip: %v %v", st, err)
	}
	// Octet-stream, gzip-encoded request body.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("zipped payload"))
	zw.Close()
	q := "/files?path=" + url.QueryEscape(e.path("raw.bin"))
	resp, b = e.do(t, "POST", q, &gz, map[string]string{"Content-Type": "application/octet-stream", "Content-Encoding": "gzip"})
	if resp.StatusCode != 200 {
		t.Fatalf("octet-stream upload: %d %s", resp.StatusCode, b)
	}
	resp, b = e.do(t, "GET", q, nil, nil)
	if resp.StatusCode != 200 || string(b) != "zipped payload" || !strings.Contains(resp.Header.Get("Content-Disposition"), "raw.bin") {
		t.Errorf("download: %d %q %v", resp.StatusCode, b, resp.Header)
	}
	resp, b = e.do(t, "GET", q, nil, map[string]string{"Range": "bytes=0-5"})
	if resp.StatusCode != 206 || string(b) != "zipped" {
		t.Errorf("range: %d %q", resp.StatusCode, b)
	}
	req, _ := http.NewRequest("GET", e.url+q, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	gresp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(gresp.Body)
	if err != nil {
		t.Fatalf("gzip download: %v", err)
	}
	unz, _ := io.ReadAll(zr)
	gresp.Body.Close()
	if string(unz) != "zipped payload" {
		t.Errorf("gzip download %q", unz)
	}
	for name, tc := range map[string]struct {
		method, url string
		want        int
	}{
		"missing":    {"GET", "/files?path=" + url.QueryEscape(e.path("nope")), 404},
		"directory":  {"GET", "/files?path=" + url.QueryEscape(e.dir), 400},
		"no path":    {"POST", "/files", 400},
		"upload dir": {"POST", "/files?path=" + url.QueryEscape(e.dir), 400},
	} {
		resp, b := e.do(t, tc.method, tc.url, strings.NewReader("x"), map[string]string{"Content-Type": "application/octet-stream"})
		var ej struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if resp.StatusCode != tc.want || json.Unmarshal(b, &ej) != nil || ej.Code != tc.want || ej.Message == "" {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
}

func TestFilesTokenAndSignatures(t *testing.T) {
	e := newEnv(t, "secret")
	p := e.path("s.txt")
	_ = os.WriteFile(p, []byte("signed"), 0o644)
	base := "/files?path=" + url.QueryEscape(p)
	future := time.Now().Add(time.Minute).Unix()
	cases := map[string]struct {
		url  string
		hdr  map[string]string
		want int
	}{
		"no token":        {base, nil, 401},
		"wrong token":     {base, map[string]string{"X-Access-Token": "nope"}, 401},
		"token":           {base, map[string]string{"X-Access-Token": "secret"}, 200},
		"signature":       {base + "&signature=" + url.QueryEscape(fs.Sign(p, "read", "", "secret", 0)), nil, 200},
		"signature+exp":   {fmt.Sprintf("%s&signature=%s&signature_expiration=%d", base, url.QueryEscape(fs.Sign(p, "read", "", "secret", future)), future), nil, 200},
		"expired":         {fmt.Sprintf("%s&signature=%s&signature_expiration=%d", base, url.QueryEscape(fs.Sign(p, "read", "", "secret", 1000)), 1000), nil, 401},
		"wrong operation": {base + "&signature=" + url.QueryEscape(fs.Sign(p, "write", "", "secret", 0)), nil, 401},
		"user mismatch":   {base + "&username=root&signature=" + url.QueryEscape(fs.Sign(p, "read", "", "secret", 0)), nil, 401},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resp, b := e.do(t, "GET", tc.url, nil, tc.hdr)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d (%s), want %d", resp.StatusCode, b, tc.want)
			}
		})
	}
}

func TestUploadReplacesSymlinkInsteadOfFollowing(t *testing.T) {
	e := newEnv(t, "")
	outside := filepath.Join(t.TempDir(), "victim")
	_ = os.WriteFile(outside, []byte("original"), 0o644)
	_ = os.Symlink(outside, e.path("link"))
	resp, b := e.do(t, "POST", "/files?path="+url.QueryEscape(e.path("link")), strings.NewReader("new"), map[string]string{"Content-Type": "application/octet-stream"})
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if got, _ := os.ReadFile(outside); string(got) != "original" {
		t.Errorf("upload followed the symlink: victim now %q", got)
	}
	if fi, _ := os.Lstat(e.path("link")); fi.Mode()&os.ModeSymlink != 0 {
		t.Error("symlink was not replaced by the uploaded file")
	}
}

// FuzzMultipartFilenames throws arbitrary part filenames at the upload handler: it must
// answer (any status) without panicking, and never write outside the requested tree... the
// guest is confined by the sandbox, so here we only check robustness.
func FuzzMultipartFilenames(f *testing.F) {
	for _, s := range []string{"a.txt", "../../x", "/abs/path", "dir/", "", "a\x00b", "~/x", strings.Repeat("d/", 300)} {
		f.Add(s)
	}
	settings := guestenv.New("0")
	h := fs.NewFilesHandler(settings, nil)
	base := f.TempDir()
	f.Fuzz(func(t *testing.T, name string) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		hdr := map[string][]string{"Content-Disposition": {fmt.Sprintf(`form-data; name="file"; filename=%q`, filepath.Join(base, name))}}
		pw, err := mw.CreatePart(hdr)
		if err != nil {
			return
		}
		_, _ = pw.Write([]byte("x"))
		mw.Close()
		req := httptest.NewRequest("POST", "/files", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == 0 {
			t.Fatal("no status written")
		}
	})
}
