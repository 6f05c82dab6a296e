package fs_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	pb "github.com/paddock/paddock/proto/filesystem"
)

// waitLimit guards waits for events that must come; it is never asserted on.
const waitLimit = 15 * time.Second

// watchStream is an open WatchDir stream whose messages after start are read into msgs.
type watchStream struct {
	msgs chan *pb.WatchDirResponse
	end  chan error // the stream's error (nil on a clean end), once msgs is closed
}

// watch opens a WatchDir stream and checks that its first message is start.
func (e *env) watch(t *testing.T, req *pb.WatchDirRequest, keepalive string) *watchStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	creq := connect.NewRequest(req)
	if keepalive != "" {
		creq.Header().Set("Keepalive-Ping-Interval", keepalive)
	}
	stream, err := e.client.WatchDir(ctx, creq)
	if err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() {
		t.Fatalf("stream ended before any message: %v", stream.Err())
	}
	if stream.Msg().GetStart() == nil {
		t.Fatalf("first message %v, want start", stream.Msg())
	}
	ws := &watchStream{msgs: make(chan *pb.WatchDirResponse, 1024), end: make(chan error, 1)}
	go func() {
		defer close(ws.msgs)
		for stream.Receive() {
			ws.msgs <- stream.Msg()
		}
		ws.end <- stream.Err()
	}()
	return ws
}

// watchFails opens a WatchDir stream that must fail with code.
func (e *env) watchFails(t *testing.T, req *pb.WatchDirRequest, code string) {
	t.Helper()
	stream, err := e.client.WatchDir(context.Background(), connect.NewRequest(req))
	if err == nil {
		for stream.Receive() {
			t.Errorf("unexpected message %v", stream.Msg())
		}
		err = stream.Err()
		stream.Close()
	}
	if codeOf(err) != code {
		t.Errorf("code %s (%v), want %s", codeOf(err), err, code)
	}
}

// key names a filesystem event as "TYPE name", e.g. "CREATE sub/f".
func key(ev *pb.FilesystemEvent) string {
	return strings.TrimPrefix(ev.GetType().String(), "EVENT_TYPE_") + " " + ev.GetName()
}

// until reads events until every wanted key has been seen, returning all events read.
func (ws *watchStream) until(t *testing.T, want ...string) []*pb.FilesystemEvent {
	t.Helper()
	var got []*pb.FilesystemEvent
	missing := slices.Clone(want)
	timeout := time.After(waitLimit)
	for len(missing) > 0 {
		select {
		case m, ok := <-ws.msgs:
			if !ok {
				t.Fatalf("stream ended (%v); still missing %v", <-ws.end, missing)
			}
			if ev := m.GetFilesystem(); ev != nil {
				got = append(got, ev)
				missing = slices.DeleteFunc(missing, func(k string) bool { return k == key(ev) })
			}
		case <-timeout:
			t.Fatalf("no events %v within %v; got %v", missing, waitLimit, got)
		}
	}
	return got
}

func find(evs []*pb.FilesystemEvent, k string) *pb.FilesystemEvent {
	for _, ev := range evs {
		if key(ev) == k {
			return ev
		}
	}
	return nil
}

func TestWatchDirEvents(t *testing.T) {
	e := newEnv(t, "")
	ws := e.watch(t, &pb.WatchDirRequest{Path: e.dir}, "")
	f := e.write(t, "f.txt", "data")
	if err := os.Rename(f, e.path("g.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(e.path("g.txt"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(e.path("g.txt")); err != nil {
		t.Fatal(err)
	}
	evs := ws.until(t, "CREATE f.txt", "WRITE f.txt", "RENAME f.txt", "CREATE g.txt", "CHMOD g.txt", "REMOVE g.txt")
	if ev := find(evs, "CREATE f.txt"); ev.GetEntry() != nil {
		t.Errorf("entry %v sent without include_entry", ev.GetEntry())
	}
}

func TestWatchDirRecursive(t *testing.T) {
	e := newEnv(t, "")
	ws := e.watch(t, &pb.WatchDirRequest{Path: e.dir, Recursive: true}, "")
	if err := os.Mkdir(e.path("sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The new directory is watched before its create event is sent.
	ws.until(t, "CREATE sub")
	e.write(t, "sub/inner.txt", "x")
	ws.until(t, "CREATE sub/inner.txt", "WRITE sub/inner.txt")
}

func TestWatchDirNotRecursive(t *testing.T) {
	e := newEnv(t, "")
	if err := os.Mkdir(e.path("sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	ws := e.watch(t, &pb.WatchDirRequest{Path: e.dir}, "")
	e.write(t, "sub/hidden.txt", "x")
	e.write(t, "marker", "x") // after hidden.txt: its events come later, if any came at all
	for _, ev := range ws.until(t, "CREATE marker") {
		if strings.HasPrefix(ev.GetName(), "sub/") {
			t.Errorf("event %s from a subdirectory of a non-recursive watch", key(ev))
		}
	}
}

func TestWatchDirIncludeEntry(t *testing.T) {
	e := newEnv(t, "")
	ws := e.watch(t, &pb.WatchDirRequest{Path: e.dir, IncludeEntry: true}, "")
	p := e.write(t, "f.txt", "data")
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	evs := ws.until(t, "CREATE f.txt", "WRITE f.txt", "REMOVE f.txt")
	for _, k := range []string{"CREATE f.txt", "WRITE f.txt"} {
		// The file may already be gone when the event is converted; then there is no entry.
		if en := find(evs, k).GetEntry(); en != nil && (en.GetName() != "f.txt" || en.GetType() != pb.FileType_FILE_TYPE_FILE || en.GetPath() != p) {
			t.Errorf("%s entry = %v", k, en)
		}
	}
	if en := find(evs, "REMOVE f.txt").GetEntry(); en != nil {
		t.Errorf("remove event has entry %v", en)
	}
	// With the file kept, the create event must carry its entry.
	e.write(t, "kept.txt", "x")
	if en := find(ws.until(t, "CREATE kept.txt"), "CREATE kept.txt").GetEntry(); en.GetName() != "kept.txt" {
		t.Errorf("create entry = %v", en)
	}
}

func TestWatchDirKeepalive(t *testing.T) {
	e := newEnv(t, "")
	ws := e.watch(t, &pb.WatchDirRequest{Path: e.dir}, "1")
	select {
	case m := <-ws.msgs:
		if m.GetKeepalive() == nil {
			t.Errorf("message %v on an idle watch, want keepalive", m)
		}
	case <-time.After(waitLimit):
		t.Fatal("no keepalive on an idle watch with Keepalive-Ping-Interval: 1")
	}
}

func TestWatchDirErrors(t *testing.T) {
	e := newEnv(t, "")
	file := e.write(t, "file", "x")
	cases := []struct{ name, path, code string }{
		{"a file", file, "invalid_argument"},
		{"missing", e.path("nope"), "not_found"},
		{"empty path", "", "invalid_argument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.watchFails(t, &pb.WatchDirRequest{Path: tc.path}, tc.code)
		})
	}
}

func TestCloseEndsWatches(t *testing.T) {
	e := newEnv(t, "")
	ws := e.watch(t, &pb.WatchDirRequest{Path: e.dir}, "")
	e.svc.Close()
	select {
	case _, ok := <-ws.msgs:
		if ok {
			t.Error("message after Close")
		}
		if err := <-ws.end; err != nil {
			t.Errorf("stream ended with %v, want a clean end", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("stream still open after Close")
	}
	e.watchFails(t, &pb.WatchDirRequest{Path: e.dir}, "unavailable")
}

func TestPollingWatcher(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.write(t, "sub/.keep", "")
	created, err := e.client.CreateWatcher(ctx, connect.NewRequest(&pb.CreateWatcherRequest{Path: e.dir, Recursive: true, IncludeEntry: true}))
	if err != nil {
		t.Fatal(err)
	}
	id := created.Msg.GetWatcherId()
	e.write(t, "sub/p.txt", "x")
	var evs []*pb.FilesystemEvent
	timeout := time.After(waitLimit)
	for find(evs, "WRITE sub/p.txt") == nil {
		select {
		case <-timeout:
			t.Fatalf("events so far %v", evs)
		case <-time.After(10 * time.Millisecond):
		}
		r, err := e.client.GetWatcherEvents(ctx, connect.NewRequest(&pb.GetWatcherEventsRequest{WatcherId: id}))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, r.Msg.GetEvents()...)
	}
	if ev := find(evs, "CREATE sub/p.txt"); ev == nil || ev.GetEntry().GetName() != "p.txt" {
		t.Errorf("create event %v, want one with the entry", ev)
	}
	if _, err := e.client.RemoveWatcher(ctx, connect.NewRequest(&pb.RemoveWatcherRequest{WatcherId: id})); err != nil {
		t.Fatal(err)
	}
	errCases := []struct {
		name string
		call func() error
		code string
	}{
		{"events of a removed watcher", func() error {
			_, err := e.client.GetWatcherEvents(ctx, connect.NewRequest(&pb.GetWatcherEventsRequest{WatcherId: id}))
			return err
		}, "not_found"},
		{"remove twice", func() error {
			_, err := e.client.RemoveWatcher(ctx, connect.NewRequest(&pb.RemoveWatcherRequest{WatcherId: id}))
			return err
		}, "not_found"},
		{"watch a file", func() error {
			_, err := e.client.CreateWatcher(ctx, connect.NewRequest(&pb.CreateWatcherRequest{Path: e.path("sub/p.txt")}))
			return err
		}, "invalid_argument"},
		{"watch a missing dir", func() error {
			_, err := e.client.CreateWatcher(ctx, connect.NewRequest(&pb.CreateWatcherRequest{Path: e.path("missing")}))
			return err
		}, "not_found"},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); codeOf(err) != tc.code {
				t.Errorf("code %s (%v), want %s", codeOf(err), err, tc.code)
			}
		})
	}
}

func TestCloseRemovesPollingWatchers(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	created, err := e.client.CreateWatcher(ctx, connect.NewRequest(&pb.CreateWatcherRequest{Path: e.dir}))
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Close()
	_, err = e.client.GetWatcherEvents(ctx, connect.NewRequest(&pb.GetWatcherEventsRequest{WatcherId: created.Msg.GetWatcherId()}))
	if codeOf(err) != "not_found" {
		t.Errorf("watcher after Close: %s (%v), want not_found", codeOf(err), err)
	}
}
