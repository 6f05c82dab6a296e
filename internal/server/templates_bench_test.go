package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/config"
)

// BenchmarkE2BCodeInterpreterFirstResult measures what an E2B code-interpreter user waits
// for: create code-interpreter-v1, then the first `1+1` through /execute. own-pool is the
// built-in template's pool (default user "user", python prewarmed for that user);
// shared-pool overrides the template without a pool, so the claim comes from base's pool,
// whose python spare was started as root and is stale once the claim switches to "user" —
// how every code-interpreter-v1 sandbox was served before templates.
func BenchmarkE2BCodeInterpreterFirstResult(b *testing.B) {
	for _, c := range []struct{ name, file string }{
		{"own-pool", `[]`},
		{"shared-pool", `[{"name": "code-interpreter-v1", "image": "base", "description": "no pool", "port": 49999}]`},
	} {
		b.Run(c.name, func(b *testing.B) {
			mutate, _ := withTemplates(b, c.file)
			s := newTestServer(b, func(c *config.Config) { c.PoolSize = 2 }, mutate)
			var ds []time.Duration
			for b.Loop() {
				b.StopTimer()
				waitAllPools(b, s)
				b.StartTimer()
				start := time.Now()
				code, raw, _ := s.e2bCall("POST", "/e2b/v1/sandboxes", map[string]any{"templateID": "code-interpreter-v1", "timeout": 60}, nil)
				var sb struct{ SandboxID, EnvdAccessToken string }
				if code != 201 || json.Unmarshal(raw, &sb) != nil {
					b.Fatalf("create: %d %s", code, raw)
				}
				if got := s.execute(sb.SandboxID, sb.EnvdAccessToken, "1+1"); got != "2" {
					b.Fatalf("1+1 = %q", got)
				}
				ds = append(ds, time.Since(start))
				b.StopTimer()
				s.e2bCall("DELETE", "/e2b/v1/sandboxes/"+sb.SandboxID, nil, nil)
				b.StartTimer()
			}
			reportLatencies(b, ds)
		})
	}
}

// waitAllPools waits until every pool is full, plus the time a spare interpreter takes.
func waitAllPools(b *testing.B, s *testServer) {
	for i := 0; i < 3000; i++ {
		full := true
		for _, p := range s.srv.eng.PoolStats() {
			full = full && p.Ready >= p.Size
		}
		if full {
			time.Sleep(300 * time.Millisecond)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatal("pools did not refill")
}

// execute runs code through the E2B data plane's code interpreter and returns the text of
// its main result.
func (s *testServer) execute(id, token, code string) string {
	body, _ := json.Marshal(map[string]string{"code": code})
	req, _ := http.NewRequest("POST", s.url+"/execute", bytes.NewReader(body))
	req.Header.Set("E2b-Sandbox-Id", id)
	req.Header.Set("E2b-Sandbox-Port", "49999")
	req.Header.Set("X-Access-Token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for sc.Scan() {
		var ev struct{ Type, Text string }
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Type == "result" {
			return ev.Text
		}
		lines = append(lines, sc.Text())
	}
	return "no result: " + strings.Join(lines, "\n")
}
