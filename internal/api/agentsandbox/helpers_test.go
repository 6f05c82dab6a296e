package agentsandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/server/servertest"
)

// The Agent-Sandbox surface on the fake driver (no root): every route called as the seed
// shows it, with a bearer key. The real-runc tests in internal/server are the layer above.

const v1 = "/api/v1"

// answer is the surface's envelope; failure is its error shape.
type (
	answer struct {
		Code string          `json:"code"`
		Data json.RawMessage `json:"data"`
	}
	failure struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
)

// call sends a request with the bearer key, as the seed's curl lines do.
func call(t *testing.T, s *servertest.Server, method, path string, body any) (int, []byte) {
	t.Helper()
	resp, raw := s.Do(servertest.Request{Method: method, Path: path, Body: body, Key: servertest.NoKey,
		Header: http.Header{"Authorization": {"Bearer " + servertest.Key}, "Content-Type": {"application/json"}}})
	return resp.StatusCode, raw
}

// ok calls and decodes a 200's data into out (unless nil), failing on anything else.
func ok(t *testing.T, s *servertest.Server, method, path string, body, out any) {
	t.Helper()
	code, raw := call(t, s, method, path, body)
	var a answer
	if code != 200 || json.Unmarshal(raw, &a) != nil || a.Code != "0" {
		t.Fatalf("%s %s: %d %.400s, want 200 with code \"0\"", method, path, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(a.Data, out); err != nil {
			t.Fatalf("%s %s: data %.300s: %v", method, path, a.Data, err)
		}
	}
}

// fails calls and checks the error shape, status and that the message holds msg.
func fails(t *testing.T, s *servertest.Server, method, path string, body any, status int, msg string) {
	t.Helper()
	code, raw := call(t, s, method, path, body)
	checkFailure(t, method+" "+path, code, raw, status, msg)
}

func checkFailure(t *testing.T, what string, code int, raw []byte, status int, msg string) {
	t.Helper()
	var f failure
	var m map[string]any
	if code != status || json.Unmarshal(raw, &f) != nil || json.Unmarshal(raw, &m) != nil || len(m) != 2 ||
		f.Code != status || !strings.Contains(f.Message, msg) {
		t.Errorf("%s: %d %.300s, want %d {code,message} with %q", what, code, raw, status, msg)
	}
}

// create makes a sandbox through the surface and deletes it when the test ends.
func create(t *testing.T, s *servertest.Server, name string) {
	t.Helper()
	var data string
	ok(t, s, "POST", v1+"/sandbox", map[string]any{"name": name}, &data)
	if want := "Sandbox " + name + " created successfully"; data != want {
		t.Fatalf("create: data %q, want %q", data, want)
	}
}

// upload posts content as the multipart part "file" named filename into dir.
func upload(t *testing.T, url, name, dir, filename string, content io.Reader) (*http.Response, []byte) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("note", "skipped by the server")
		fw, err := mw.CreateFormFile("file", filename)
		if err == nil {
			_, err = io.Copy(fw, content)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", url+v1+"/sandbox/files/"+name+"/upload?path="+dir, pr)
	req.Header.Set("Authorization", "Bearer "+servertest.Key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

// download fetches a file's bytes.
func download(t *testing.T, url, name, path string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url+v1+"/sandbox/files/"+name+"/download?path="+path, nil)
	req.Header.Set("Authorization", "Bearer "+servertest.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = io.Copy(&b, resp.Body)
	return resp, b.Bytes()
}
