package server

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/config"
)

// memPeak samples this process's Go heap and RSS until stopped and keeps the peaks above
// the baseline taken when it started.
type memPeak struct {
	stop, done      chan struct{}
	heap0, heapMax  uint64
	rss0, rssMax    uint64
	heapNow, rssNow func() uint64
}

func watchMemory() *memPeak {
	runtime.GC()
	debug.FreeOSMemory()
	sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	m := &memPeak{stop: make(chan struct{}), done: make(chan struct{})}
	m.heapNow = func() uint64 {
		rtmetrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	m.rssNow = processRSS
	m.heap0, m.rss0 = m.heapNow(), m.rssNow()
	go func() {
		defer close(m.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			m.heapMax = max(m.heapMax, m.heapNow())
			if i%10 == 0 {
				m.rssMax = max(m.rssMax, m.rssNow())
			}
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

// Stop ends sampling and returns the peak growth of the heap and of the RSS.
func (m *memPeak) Stop() (heap, rss uint64) {
	close(m.stop)
	<-m.done
	sub := func(a, b uint64) uint64 {
		if a < b {
			return 0
		}
		return a - b
	}
	return sub(m.heapMax, m.heap0), sub(m.rssMax, m.rss0)
}

// processRSS is this process's resident set size in bytes (0 when unknown).
func processRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

const mib = 1 << 20

// readCheck is one large read and what it must produce.
type readCheck struct {
	name string
	req  func() *http.Request
	// json: the answer is the native envelope whose data.content holds the file.
	json bool
}

// heavyReads runs reads in parallel and checks each answer's content against want (a hex
// SHA-256) and size. Every reader first receives the beginning of its answer, then waits
// until GET /health has answered while all of them are in flight.
func (s *testServer) heavyReads(t *testing.T, reads []readCheck, want string, size int64) {
	t.Helper()
	var started, healthy sync.WaitGroup
	started.Add(len(reads))
	healthy.Add(1)
	errs := make(chan error, len(reads)+1)
	var wg sync.WaitGroup
	for _, rc := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var once sync.Once
			begun := func() { once.Do(started.Done) }
			defer begun()
			err := func() error {
				resp, err := http.DefaultClient.Do(rc.req())
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				if resp.StatusCode != 200 {
					b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
					return fmt.Errorf("status %d: %s", resp.StatusCode, b)
				}
				br := bufio.NewReaderSize(resp.Body, 64<<10)
				if _, err := br.Peek(1); err != nil {
					return err
				}
				begun()
				healthy.Wait()
				return checkContent(br, rc.json, want, size)
			}()
			if err != nil {
				errs <- fmt.Errorf("%s: %w", rc.name, err)
			}
		}()
	}
	started.Wait()
	hc := &http.Client{Timeout: 2 * time.Minute}
	if resp, err := hc.Get(s.url + "/health"); err != nil || resp.StatusCode != 200 {
		errs <- fmt.Errorf("/health while %d reads were in flight: %v %v", len(reads), resp, err)
	} else {
		resp.Body.Close()
	}
	healthy.Done()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// checkContent compares a raw body, or the content of a native JSON answer, with want.
func checkContent(r io.Reader, isJSON bool, want string, size int64) error {
	if !isJSON {
		h := sha256.New()
		n, err := io.Copy(h, r)
		if err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want || n != size {
			return fmt.Errorf("raw body: %d bytes with SHA-256 %s, want %d bytes with %s", n, got, size, want)
		}
		return nil
	}
	raw, dec := &countingHash{h: sha256.New()}, &countingHash{h: sha256.New()}
	b64 := &base64Sink{dst: dec}
	vals, err := walkJSON(r, map[string]io.Writer{"data.content": io.MultiWriter(raw, b64)})
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	got := raw
	if vals["data.encoding"] == "base64" {
		if err := b64.Err(); err != nil {
			return fmt.Errorf("content: %w", err)
		}
		got = dec
	}
	if sum := hex.EncodeToString(got.h.Sum(nil)); sum != want || got.n != size || vals["data.size"] != fmt.Sprint(size) {
		return fmt.Errorf("JSON content (%s): %d bytes with SHA-256 %s (size field %s), want %d bytes with %s",
			vals["data.encoding"], got.n, sum, vals["data.size"], size, want)
	}
	return nil
}

type countingHash struct {
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// TestLargeReadsBoundedMemory reads a 60 MB file of NUL bytes and one of random bytes, each
// 4 times in parallel through the native JSON route, 4 times raw and twice through the E2B
// data plane, checks every byte, checks /health answers meanwhile, and bounds the growth of
// the server's heap. Before reads streamed, the JSON answers alone took 4×(the file + its
// string + a 6× escaped JSON buffer) — gigabytes for the NUL file. Streaming needs a few
// buffers of 32–64 KiB per request; the bound (256 MiB for 10 requests of 60 MB) leaves
// room for the garbage collector's headroom and for this test's own client side.
func TestLargeReadsBoundedMemory(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	sb := s.e2bCreate(map[string]any{"templateID": "base", "timeout": 3600}) // outlives the test on a starved host (600 s ran out once, at load 150-370)
	const size = 60_000_000
	_, env := s.call("POST", "/sandboxes/"+sb.SandboxID+"/exec", map[string]any{"command": []string{"sh", "-c",
		fmt.Sprintf("head -c %d /dev/zero > /tmp/zero && head -c %d /dev/urandom > /tmp/rand && sha256sum /tmp/rand", size, size)}}, "")
	out := data[execOut](t, env)
	if out.ExitCode != 0 {
		t.Fatalf("make files: %+v", out)
	}
	zeroSum := sha256.New()
	_, _ = io.CopyN(zeroSum, zeroReader{}, size)
	files := []struct{ path, sum string }{
		{"/tmp/zero", hex.EncodeToString(zeroSum.Sum(nil))},
		{"/tmp/rand", strings.Fields(out.Stdout)[0]},
	}
	for _, f := range files {
		var reads []readCheck
		native := func(name string, raw bool) readCheck {
			return readCheck{name: name, json: !raw, req: func() *http.Request {
				req, _ := http.NewRequest("GET", s.url+"/sandboxes/"+sb.SandboxID+"/files"+f.path, nil)
				req.Header.Set("X-API-Key", testKey)
				if raw {
					req.Header.Set("Accept", "application/octet-stream")
				}
				return req
			}}
		}
		for i := range 4 {
			reads = append(reads, native(fmt.Sprintf("JSON %s #%d", f.path, i), false),
				native(fmt.Sprintf("raw %s #%d", f.path, i), true))
		}
		for i := range 2 {
			reads = append(reads, readCheck{name: fmt.Sprintf("E2B /files %s #%d", f.path, i), req: func() *http.Request {
				req, _ := http.NewRequest("GET", s.url+"/files?path="+f.path, nil)
				req.Header.Set("E2b-Sandbox-Id", sb.SandboxID)
				req.Header.Set("E2b-Sandbox-Port", "49983")
				req.Header.Set("X-Access-Token", sb.EnvdAccessToken)
				return req
			}})
		}
		mem := watchMemory()
		s.heavyReads(t, reads, f.sum, size)
		heap, rss := mem.Stop()
		t.Logf("%s: %d parallel reads of %d MB: peak heap growth %d MiB, peak RSS growth %d MiB",
			f.path, len(reads), size/1_000_000, heap/mib, rss/mib)
		if heap > 256*mib {
			t.Errorf("%s: the heap grew by %d MiB for %d reads; want under 256 MiB (reads must stream)", f.path, heap/mib, len(reads))
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestLargeOutputsBoundedMemory runs 6 commands that each print 200 MB through the buffered
// exec route at once. Each answer holds at most the output limit per stream, and is
// encoded as it is written: the heap holds the kept output (6 × the limit) and buffers. Before,
// each answer also held the interleaved copy, string copies and a JSON buffer 6× the kept NULs:
// 773 MB of RSS. The bound is twice the kept output (the collector lets the heap reach
// twice what is live before it runs) plus 128 MiB.
func TestLargeOutputsBoundedMemory(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	if code, env := s.call("POST", "/sandboxes", map[string]any{"name": "loud"}, ""); code != 201 {
		t.Fatalf("create: %d %s", code, env.Error)
	}
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	limits := make(chan int64, n)
	mem := watchMemory()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"command":["head","-c","200M","/dev/zero"]}`
			req, _ := http.NewRequest("POST", s.url+"/sandboxes/loud/exec", strings.NewReader(body))
			req.Header.Set("X-API-Key", testKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var stdout, output countingNULs
			vals, err := walkJSON(resp.Body, map[string]io.Writer{"data.stdout": &stdout, "data.output": &output})
			switch {
			case err != nil:
				errs <- fmt.Errorf("exec %d: %v", i, err)
			case resp.StatusCode != 200 || vals["data.truncated"] != "true" || vals["data.exit_code"] != "0":
				errs <- fmt.Errorf("exec %d: status %d, %v", i, resp.StatusCode, vals)
			case stdout.other || output.other || stdout.n != output.n || stdout.n == 0:
				errs <- fmt.Errorf("exec %d: stdout %d NULs, output %d NULs (other bytes: %v %v)", i, stdout.n, output.n, stdout.other, output.other)
			default:
				limits <- stdout.n
			}
		}()
	}
	wg.Wait()
	heap, rss := mem.Stop()
	close(errs)
	close(limits)
	for err := range errs {
		t.Error(err)
	}
	var kept int64
	for l := range limits {
		kept += l
	}
	t.Logf("%d parallel execs of 200 MB of output: %d MiB kept, peak heap growth %d MiB, peak RSS growth %d MiB",
		n, kept/mib, heap/mib, rss/mib)
	if bound := 2*uint64(kept) + 128*mib; heap > bound {
		t.Errorf("the heap grew by %d MiB; want under %d MiB (twice the kept output plus 128 MiB)", heap/mib, bound/mib)
	}
}

// countingNULs counts NUL bytes and notes any other byte.
type countingNULs struct {
	n     int64
	other bool
}

func (c *countingNULs) Write(p []byte) (int, error) {
	if len(bytes.Trim(p, "\x00")) > 0 {
		c.other = true
	}
	c.n += int64(len(p))
	return len(p), nil
}

// metric reads one sample of the server's /metrics ("" when absent).
func (s *testServer) metric(name string) string {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.url+"/metrics", nil)
	req.Header.Set("X-API-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v
		}
	}
	return ""
}

// TestHeavyRequestsCap fills the cap on heavy requests with two commands that wait for a
// file, then checks that each kind of heavy request is refused with 503 and Retry-After in
// its surface's error shape, that light requests still pass, and that the gauge counts.
func TestHeavyRequestsCap(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0; c.MaxHeavyRequests = 2 })
	s.srv.heavy.SetWait(50 * time.Millisecond)
	sb := s.e2bCreate(map[string]any{"templateID": "base", "timeout": 600})
	held := make(chan string, 2)
	for range 2 {
		go func() {
			_, env := s.call("POST", "/sandboxes/"+sb.SandboxID+"/exec", map[string]any{"command": []string{"sh", "-c",
				"while [ ! -e /tmp/go ]; do sleep 0.05; done; echo released"}}, "")
			held <- data[execOut](t, env).Stdout
		}()
	}
	for deadline := time.Now().Add(time.Minute); s.metric("paddock_heavy_requests_in_flight") != "2"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the two commands never held the cap: in flight %q", s.metric("paddock_heavy_requests_in_flight"))
		}
	}
	type refusal struct {
		name string
		req  *http.Request
		// shape names the field of the surface's error shape that carries the message.
		shape string
	}
	native := func(method, path, body string) *http.Request {
		req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
		req.Header.Set("X-API-Key", testKey)
		return req
	}
	e2bFiles, _ := http.NewRequest("GET", s.url+"/files?path=/etc/hostname", nil)
	e2bFiles.Header.Set("E2b-Sandbox-Id", sb.SandboxID)
	e2bFiles.Header.Set("E2b-Sandbox-Port", "49983")
	e2bFiles.Header.Set("X-Access-Token", sb.EnvdAccessToken)
	for _, c := range []refusal{
		{"native file read", native("GET", "/sandboxes/"+sb.SandboxID+"/files/etc/hostname", ""), "error"},
		{"native raw write", native("PUT", "/sandboxes/"+sb.SandboxID+"/files/tmp/x", "x"), "error"},
		{"run", native("POST", "/run", `{"command":["true"]}`), "error"},
		{"batch", native("POST", "/batch/run", `{"commands":[{"command":["true"]}]}`), "error"},
		{"E2B file read", e2bFiles, "message"},
	} {
		resp, err := http.DefaultClient.Do(c.req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		msg, _ := body[c.shape].(string)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !strings.Contains(msg, "busy") {
			t.Errorf("%s while the cap is full: %d, Retry-After %q, %v", c.name, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	if code, _ := s.call("GET", "/health", nil, "-"); code != 200 {
		t.Errorf("/health while the cap is full: %d", code)
	}
	if got := s.metric("paddock_heavy_requests_refused_total"); got != "5" {
		t.Errorf("refused: %q, want 5", got)
	}
	// Streams are not heavy: one of them releases the held commands.
	req := native("POST", "/sandboxes/"+sb.SandboxID+"/exec/stream", `{"command":["touch","/tmp/go"]}`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	events, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(events), `"exit_code":0`) {
		t.Fatalf("release through /exec/stream: %d %s", resp.StatusCode, events)
	}
	for range 2 {
		if out := <-held; out != "released\n" {
			t.Errorf("held command: %q", out)
		}
	}
	if got := s.metric("paddock_heavy_requests_in_flight"); got != "0" {
		t.Errorf("in flight at the end: %q", got)
	}
}
