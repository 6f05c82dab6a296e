package e2b_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/sandbox"
)

// detailKeys are what Agent-Sandbox's Sandbox object (create, connect and Get) carries
// beyond E2B's Sandbox.
var detailKeys = []string{"metadata", "cpuCount", "memoryMB", "diskSizeMB", "startedAt", "endAt", "state"}

// TestCreateAndConnectAnswerTheDetail: create and connect (v1 and v2) answer the Get shape,
// connect with 201, and diskSizeMB is the sandbox's disk size.
func TestCreateAndConnectAnswerTheDetail(t *testing.T) {
	p := newPlane(t)
	var created map[string]any
	if code := p.call("POST", "/sandboxes", map[string]any{"templateID": "base", "timeout": 60, "metadata": map[string]string{"job": "x"}}, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	id, _ := created["sandboxID"].(string)
	p.edit(id, func(sb *sandbox.Sandbox) { sb.Instance.Resources.DiskMB = 2048 })
	answers := map[string]map[string]any{"create": created}
	for _, route := range []string{"/sandboxes/" + id + "/connect", "/v2/sandboxes/" + id + "/connect"} {
		var got map[string]any
		if code := p.call("POST", route, map[string]any{"timeout": 120}, &got); code != 201 {
			t.Errorf("%s on a running sandbox: %d, want 201", route, code)
		}
		answers[route] = got
	}
	var get map[string]any
	p.call("GET", "/sandboxes/"+id, nil, &get)
	answers["get"] = get
	for what, a := range answers {
		for _, k := range detailKeys {
			if _, ok := a[k]; !ok {
				t.Errorf("%s lacks %q: %v", what, k, a)
			}
		}
		if md, _ := a["metadata"].(map[string]any); md["job"] != "x" || a["state"] != "running" || a["envdAccessToken"] == "" {
			t.Errorf("%s: metadata %v, state %v", what, a["metadata"], a["state"])
		}
	}
	for _, what := range []string{"/sandboxes/" + id + "/connect", "get"} {
		if answers[what]["diskSizeMB"] != float64(2048) {
			t.Errorf("%s: diskSizeMB %v, want the sandbox's 2048", what, answers[what]["diskSizeMB"])
		}
	}
}

// TestPauseWithoutMemory: pause({keepMemory: false}) stops the processes and keeps the disk;
// the sandbox shows as paused, does not time out, and connect cold-boots it.
func TestPauseWithoutMemory(t *testing.T) {
	p := newPlane(t)
	id := p.create(map[string]any{"templateID": "base", "timeout": 60})
	if code := p.call("POST", "/sandboxes/"+id+"/pause", map[string]any{"memory": false}, nil); code != 204 {
		t.Fatalf("pause: %d", code)
	}
	sb, _ := p.m.Get(t.Context(), id)
	if sb.State != sandbox.StateStopped || sb.ExpiresAt != nil {
		t.Fatalf("after pause without memory: %s, expires %v; want stopped with no deadline", sb.State, sb.ExpiresAt)
	}
	var d map[string]any
	if p.call("GET", "/sandboxes/"+id, nil, &d); d["state"] != "paused" {
		t.Errorf("state %v, want paused", d["state"])
	}
	if code := p.call("POST", "/sandboxes/"+id+"/pause", nil, nil); code != 409 {
		t.Errorf("pausing again: %d, want 409", code)
	}
	if code := p.call("POST", "/v2/sandboxes/"+id+"/connect", nil, &d); code != 201 || d["state"] != "running" {
		t.Fatalf("connect: %d %v", code, d["state"])
	}
	// connect with memory false resumes a frozen sandbox from its disk: a fresh start.
	if code := p.call("POST", "/sandboxes/"+id+"/pause", `{}`, nil); code != 204 || p.state(id) != sandbox.StatePaused {
		t.Fatalf("pause keeping memory: %d %s", code, p.state(id))
	}
	before, _ := p.m.Get(t.Context(), id)
	if code := p.call("POST", "/v2/sandboxes/"+id+"/connect", map[string]any{"memory": false}, nil); code != 201 {
		t.Fatalf("connect from disk: %d", code)
	}
	after, _ := p.m.Get(t.Context(), id)
	if after.State != sandbox.StateRunning || !after.StartedAt.After(*before.StartedAt) {
		t.Errorf("connect with memory false: %s, started %v (before %v): want a cold boot", after.State, after.StartedAt, before.StartedAt)
	}
}

// TestFailedSandboxOnTheE2BSurface: a sandbox whose init died is "paused" (the SDKs know
// only running and paused) and connect brings it back from its disk.
func TestFailedSandboxOnTheE2BSurface(t *testing.T) {
	p := newPlane(t)
	id := p.create(map[string]any{"templateID": "base", "metadata": map[string]string{"k": "failed"}})
	if _, err := p.m.Stop(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	p.edit(id, func(sb *sandbox.Sandbox) { sb.State, sb.Reason = sandbox.StateFailed, "init was killed by SIGKILL" })
	var d map[string]any
	if p.call("GET", "/sandboxes/"+id, nil, &d); d["state"] != "paused" {
		t.Errorf("detail state %v, want paused", d["state"])
	}
	var listed []map[string]any
	p.call("GET", "/v2/sandboxes?state=paused", nil, &listed)
	if len(listed) != 1 || listed[0]["sandboxID"] != id {
		t.Errorf("list state=paused: %v", listed)
	}
	if code := p.call("POST", "/v2/sandboxes/"+id+"/connect", nil, &d); code != 201 || d["state"] != "running" {
		t.Fatalf("connect to a failed sandbox: %d %v", code, d)
	}
}

// TestLifecycleBodiesAreStrict: each route takes what the SDKs send and refuses the rest.
func TestLifecycleBodiesAreStrict(t *testing.T) {
	p := newPlane(t)
	id := p.create(map[string]any{"templateID": "base"})
	cases := []struct {
		route, body string
		want        int
	}{
		{"/timeout", `{"timeout":60}`, 204},
		{"/timeout", `{"timeout":60,"duration":5}`, 400},
		{"/refreshes", `{"duration":30}`, 204},
		{"/refreshes", `{"timeout":30}`, 400},
		{"/connect", `{"timeout":60,"memory":true}`, 201},
		{"/connect", `{"timeout":60,"autoPause":false}`, 400},
		{"/pause", `{"memory":true,"x":1}`, 400},
	}
	for _, c := range cases {
		var e struct{ Message string }
		if code := p.call("POST", "/sandboxes/"+id+c.route, c.body, &e); code != c.want {
			t.Errorf("%s %s: %d %q, want %d", c.route, c.body, code, e.Message, c.want)
		}
	}
	p.call("POST", "/sandboxes/"+id+"/pause", nil, nil)
	var e struct{ Message string }
	if code := p.call("POST", "/sandboxes/"+id+"/resume", `{"timeout":60,"autoPause":true}`, &e); code != 400 || !strings.Contains(e.Message, "autoPause") {
		t.Errorf("resume with autoPause: %d %q", code, e.Message)
	}
	if code := p.call("POST", "/sandboxes/"+id+"/resume", `{"timeout":60,"autoPause":false}`, nil); code != 201 {
		t.Errorf("resume: %d", code)
	}
}

// TestMetricsRange: getMetrics({start, end}) answers the samples in that range.
func TestMetricsRange(t *testing.T) {
	p := newPlane(t)
	id := p.create(map[string]any{"templateID": "base"})
	now := time.Now().Unix()
	var ms []map[string]any
	if code := p.call("GET", "/sandboxes/"+id+"/metrics", nil, &ms); code != 200 || len(ms) == 0 {
		t.Fatalf("metrics: %d %v", code, ms)
	}
	for _, m := range ms {
		for _, k := range []string{"timestamp", "timestampUnix", "cpuCount", "cpuUsedPct", "memUsed", "memTotal", "memCache", "diskUsed", "diskTotal"} {
			if _, ok := m[k]; !ok {
				t.Errorf("a sample lacks %q: %v", k, m)
			}
		}
	}
	if p.call("GET", fmt.Sprintf("/sandboxes/%s/metrics?start=%d&end=%d", id, now-7200, now-3600), nil, &ms); len(ms) != 0 {
		t.Errorf("an hour before the sandbox existed: %d samples", len(ms))
	}
	if p.call("GET", fmt.Sprintf("/sandboxes/%s/metrics?start=%d", id, now-60), nil, &ms); len(ms) == 0 {
		t.Errorf("the last minute: no samples")
	}
	for _, m := range ms {
		if ts := int64(m["timestampUnix"].(float64)); ts < now-60 {
			t.Errorf("a sample at %d is before start %d", ts, now-60)
		}
	}
	for _, q := range []string{fmt.Sprintf("start=%d&end=%d", now, now-10), "start=yesterday"} {
		if code := p.call("GET", "/sandboxes/"+id+"/metrics?"+q, nil, nil); code != 400 {
			t.Errorf("metrics?%s: %d, want 400", q, code)
		}
	}
}
