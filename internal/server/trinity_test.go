package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/template"
)

// Trinity's /api/agents on the fake driver: every route, bad input, access. The fake driver
// records mounts without applying them and runs processes on the host, so the workspace is a
// host directory (the agent-workspace setting) shared by this test's agents.

// trinityServer starts a server whose "shell" runtime prints a line when it starts.
func trinityServer(t *testing.T) (*servertest.Server, string) {
	t.Helper()
	ws := t.TempDir()
	tmpl := filepath.Join(t.TempDir(), "templates.json")
	ts := []template.Template{
		{Name: template.Base, Image: "base", User: servertest.User, Description: "base"},
		{Name: "shell", Image: "base", User: servertest.User, Description: "a shell runtime", StartCmd: "echo runtime-started"},
	}
	b, _ := json.Marshal(ts)
	if err := os.WriteFile(tmpl, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return servertest.New(t, func(c *config.Config) { c.TemplatesFile, c.AgentWorkspace = tmpl, ws }), ws
}

// tr sends a Trinity request with key and decodes a JSON answer into out (unless nil).
func tr(t *testing.T, s *servertest.Server, method, path string, body any, key string, out any) (int, string) {
	t.Helper()
	return raw(t, s, method, "/api/agents"+path, body, key, out)
}

type agentStatus struct {
	Name, Type, Status, Runtime string
	ContainerID                 string `json:"container_id"`
	Resources                   struct{ CPU, Memory string }
	Tags                        []string
}

func wantDetail(t *testing.T, code int, body, field string) {
	t.Helper()
	var e struct{ Detail string }
	if code != 400 || json.Unmarshal([]byte(body), &e) != nil || !strings.HasPrefix(e.Detail, field+":") {
		t.Errorf("want 400 {\"detail\": %q...}, got %d %s", field+":", code, body)
	}
}

func TestTrinityAgents(t *testing.T) {
	s, ws := trinityServer(t)
	alice, bob := users(t, s)

	var ag agentStatus
	code, body := tr(t, s, "POST", "", map[string]any{"name": "Research Agent", "runtime": "shell",
		"resources": map[string]string{"cpu": "2", "memory": "1g"}, "unknown_field": 1}, alice, &ag)
	if code != 200 || ag.Name != "research-agent" || ag.Status != "running" || ag.Type != "business-assistant" ||
		ag.Runtime != "shell" || ag.Resources.Memory != "1g" || ag.ContainerID == "" {
		t.Fatalf("create: %d %s", code, body)
	}

	t.Run("BadInput", func(t *testing.T) {
		if code, body := tr(t, s, "POST", "", map[string]any{"name": "research-agent"}, alice, nil); code != 409 {
			t.Errorf("taken name: %d %s", code, body)
		}
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": "!!!"}, "name"},
			{map[string]any{"name": strings.Repeat("a", 64)}, "name"},
			{map[string]any{"name": "x", "resources": map[string]string{"cpu": "99"}}, "resources.cpu"},
			{map[string]any{"name": "x", "resources": map[string]string{"cpu": "1.5"}}, "resources.cpu"},
			{map[string]any{"name": "x", "resources": map[string]string{"memory": "4x"}}, "resources.memory"},
			{map[string]any{"name": "x", "resources": map[string]string{"memory": "100m"}}, "resources.memory"},
			{map[string]any{"name": "x", "runtime": "nope"}, "runtime"},
		} {
			code, body := tr(t, s, "POST", "", c.body, alice, nil)
			wantDetail(t, code, body, c.field)
		}
		if code, body := tr(t, s, "POST", "", map[string]any{"name": "x", "resources": map[string]any{"cpu": true}}, alice, nil); code != 400 || !strings.Contains(body, "resources.cpu") {
			t.Errorf("cpu of the wrong type: %d %s", code, body)
		}
		if code, body := tr(t, s, "POST", "", map[string]any{"name": "numeric", "runtime": "shell", "resources": map[string]any{"cpu": 1}}, alice, nil); code != 200 ||
			!strings.Contains(body, `"cpu":"1"`) {
			t.Errorf("cpu as a number: %d %s", code, body)
		}
		tr(t, s, "DELETE", "/numeric", nil, alice, nil)
		if code, body := tr(t, s, "GET", "/nope", nil, alice, nil); code != 404 || !strings.Contains(body, `"detail"`) {
			t.Errorf("unknown agent: %d %s", code, body)
		}
		code, body := tr(t, s, "PUT", "/research-agent/timeout", map[string]any{"execution_timeout_seconds": 30}, alice, nil)
		wantDetail(t, code, body, "execution_timeout_seconds")
		code, body = tr(t, s, "PUT", "/research-agent/timeout", map[string]any{"execution_timeout_seconds": 7201}, alice, nil)
		wantDetail(t, code, body, "execution_timeout_seconds")
		code, body = tr(t, s, "PUT", "/research-agent/rename", map[string]any{"new_name": "---"}, alice, nil)
		wantDetail(t, code, body, "new_name")
		code, body = tr(t, s, "PUT", "/research-agent/tags", map[string]any{"tags": []string{"no spaces"}}, alice, nil)
		wantDetail(t, code, body, "tags")
		if code, body := tr(t, s, "GET", "/research-agent/logs?tail=0", nil, alice, nil); code != 400 {
			t.Errorf("tail=0: %d %s", code, body)
		}
	})

	t.Run("Access", func(t *testing.T) {
		var list []agentStatus
		if code, _ := tr(t, s, "GET", "", nil, bob, &list); code != 200 || len(list) != 0 {
			t.Errorf("bob's list: %d %v", code, list)
		}
		for _, r := range []struct{ method, path string }{{"GET", ""}, {"POST", "/start"}, {"GET", "/logs"}, {"GET", "/files"},
			{"DELETE", ""}, {"PUT", "/autonomy"}, {"GET", "/read-only"}, {"POST", "/share"}} {
			if code, body := tr(t, s, r.method, "/research-agent"+r.path, map[string]any{"enabled": true, "email": "bob@example.com"}, bob, nil); code != 404 {
				t.Errorf("bob %s %s: %d %s, want 404", r.method, r.path, code, body)
			}
		}
		if code, _ := tr(t, s, "GET", "", nil, servertest.Key, &list); code != 200 || len(list) != 1 {
			t.Errorf("admin's list: %d %v", code, list)
		}
		var d struct {
			IsOwner   bool `json:"is_owner"`
			IsShared  bool `json:"is_shared"`
			CanDelete bool `json:"can_delete"`
		}
		if code, body := tr(t, s, "GET", "/research-agent", nil, servertest.Key, &d); code != 200 || d.IsOwner || d.IsShared || !d.CanDelete {
			t.Errorf("admin's detail: %d %s", code, body)
		}
		// Bearer works as well as X-API-Key.
		resp, body := s.Do(servertest.Request{Method: "GET", Path: "/api/agents/research-agent", Key: servertest.NoKey,
			Header: http.Header{"Authorization": {"Bearer " + alice}}})
		if resp.StatusCode != 200 {
			t.Errorf("bearer: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("Detail", func(t *testing.T) {
		var d struct {
			Name, Owner, Runtime string
			IsOwner              bool `json:"is_owner"`
			AutonomyEnabled      bool `json:"autonomy_enabled"`
			ReadOnlyEnabled      bool `json:"read_only_enabled"`
			ExecutionTimeout     int  `json:"execution_timeout_seconds"`
		}
		if code, body := tr(t, s, "GET", "/research-agent", nil, alice, &d); code != 200 || d.Owner != "alice@example.com" ||
			!d.IsOwner || d.Runtime != "shell" || d.ExecutionTimeout != 900 || d.AutonomyEnabled || d.ReadOnlyEnabled {
			t.Errorf("detail: %d %s", code, body)
		}
		var info struct {
			Runtime, Description string
			Status               string
		}
		if code, body := tr(t, s, "GET", "/research-agent/info", nil, alice, &info); code != 200 || info.Description != "a shell runtime" || info.Status != "running" {
			t.Errorf("info: %d %s", code, body)
		}
	})

	t.Run("Tags", func(t *testing.T) {
		var tl struct {
			AgentName string `json:"agent_name"`
			Tags      []string
		}
		if code, body := tr(t, s, "PUT", "/research-agent/tags", map[string]any{"tags": []string{" Prod", "research", "prod"}}, alice, &tl); code != 200 ||
			!slices.Equal(tl.Tags, []string{"prod", "research"}) {
			t.Errorf("put tags: %d %s", code, body)
		}
		if code, body := tr(t, s, "GET", "/research-agent/tags", nil, alice, &tl); code != 200 || len(tl.Tags) != 2 {
			t.Errorf("get tags: %d %s", code, body)
		}
		for q, n := range map[string]int{"?tags=prod": 1, "?tags=staging,research": 1, "?tags=staging": 0} {
			var list []agentStatus
			if code, _ := tr(t, s, "GET", q, nil, alice, &list); code != 200 || len(list) != n {
				t.Errorf("list %s: %d agents, want %d", q, len(list), n)
			}
		}
	})

	t.Run("FilesLogsStats", func(t *testing.T) {
		if err := os.MkdirAll(filepath.Join(ws, "notes"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(ws, "notes", "a.txt"), []byte("hello workspace"), 0o644)
		os.WriteFile(filepath.Join(ws, ".hidden"), []byte("x"), 0o644)
		var tree struct {
			Tree []struct {
				Name, Type string
				Children   []struct{ Name, Path string }
			}
			TotalFiles int `json:"total_files"`
		}
		if code, body := tr(t, s, "GET", "/research-agent/files", nil, alice, &tree); code != 200 || tree.TotalFiles != 1 ||
			len(tree.Tree) != 1 || tree.Tree[0].Name != "notes" || tree.Tree[0].Children[0].Path != "notes/a.txt" {
			t.Errorf("files: %d %s", code, body)
		}
		resp, body := s.Do(servertest.Request{Method: "GET", Path: "/api/agents/research-agent/files/download?path=notes/a.txt", Key: alice})
		if resp.StatusCode != 200 || string(body) != "hello workspace" || !strings.Contains(resp.Header.Get("Content-Disposition"), "a.txt") {
			t.Errorf("download: %d %s", resp.StatusCode, body)
		}
		if code, body := tr(t, s, "GET", "/research-agent/files/download?path=/etc/passwd", nil, alice, nil); code != 403 {
			t.Errorf("download outside the workspace: %d %s", code, body)
		}
		if code, body := tr(t, s, "GET", "/research-agent/files/download?path=../x", nil, alice, nil); code != 403 {
			t.Errorf("download escaping the workspace: %d %s", code, body)
		}
		if code, body := tr(t, s, "GET", "/research-agent/files/download?path=nope.txt", nil, alice, nil); code != 404 {
			t.Errorf("download of a missing file: %d %s", code, body)
		}
		servertest.Eventually(t, "the runtime's output in the logs", func() bool {
			var l struct{ Logs string }
			tr(t, s, "GET", "/research-agent/logs?tail=50", nil, alice, &l)
			return strings.Contains(l.Logs, "runtime-started")
		})
		var st struct {
			Status           string
			MemoryLimitBytes uint64 `json:"memory_limit_bytes"`
		}
		if code, body := tr(t, s, "GET", "/research-agent/stats", nil, alice, &st); code != 200 || st.Status != "running" || st.MemoryLimitBytes != 1<<30 {
			t.Errorf("stats: %d %s", code, body)
		}
	})

	t.Run("Config", func(t *testing.T) {
		var to struct {
			Seconds int `json:"execution_timeout_seconds"`
			Minutes int `json:"execution_timeout_minutes"`
		}
		if code, body := tr(t, s, "PUT", "/research-agent/timeout", map[string]any{"execution_timeout_seconds": 120}, alice, &to); code != 200 || to.Seconds != 120 || to.Minutes != 2 {
			t.Errorf("put timeout: %d %s", code, body)
		}
		if code, body := tr(t, s, "GET", "/research-agent/timeout", nil, alice, &to); code != 200 || to.Seconds != 120 {
			t.Errorf("get timeout: %d %s", code, body)
		}
		var au struct {
			AutonomyEnabled bool `json:"autonomy_enabled"`
			Total           int  `json:"total_schedules"`
			Message         string
		}
		if code, body := tr(t, s, "PUT", "/research-agent/autonomy", map[string]any{"enabled": true}, alice, &au); code != 200 ||
			!au.AutonomyEnabled || au.Message != "Autonomy enabled. This agent has no schedules." {
			t.Errorf("put autonomy: %d %s", code, body)
		}
		if code, body := tr(t, s, "PUT", "/research-agent/autonomy", map[string]any{}, alice, nil); code != 400 {
			t.Errorf("autonomy without enabled: %d %s", code, body)
		}
		var all map[string]struct {
			AutonomyEnabled bool `json:"autonomy_enabled"`
		}
		if code, body := tr(t, s, "GET", "/autonomy-status", nil, alice, &all); code != 200 || !all["research-agent"].AutonomyEnabled {
			t.Errorf("autonomy-status: %d %s", code, body)
		}
		var cs struct {
			Agents []struct{ Name string }
			Source string
		}
		if code, body := tr(t, s, "GET", "/context-stats", nil, alice, &cs); code != 200 || len(cs.Agents) != 1 || cs.Source == "" {
			t.Errorf("context-stats: %d %s", code, body)
		}
	})

	t.Run("ReadOnly", func(t *testing.T) {
		var ro struct {
			Enabled bool
			Config  struct {
				Blocked []string `json:"blocked_patterns"`
				Allowed []string `json:"allowed_patterns"`
			}
			WritableDirs  []string `json:"writable_dirs"`
			HooksInjected *bool    `json:"hooks_injected"`
		}
		if code, body := tr(t, s, "GET", "/research-agent/read-only", nil, alice, &ro); code != 200 || ro.Enabled ||
			!slices.Contains(ro.Config.Blocked, "*.py") || !slices.Contains(ro.Config.Allowed, "output/*") {
			t.Errorf("get read-only: %d %s", code, body)
		}
		if code, body := tr(t, s, "PUT", "/research-agent/read-only", map[string]any{"enabled": true}, alice, &ro); code != 200 ||
			!ro.Enabled || ro.HooksInjected == nil || !*ro.HooksInjected ||
			!slices.Equal(ro.WritableDirs, []string{"content", "output", "reports", "exports"}) {
			t.Fatalf("put read-only: %d %s", code, body)
		}
		mounts, err := s.Driver.Mounts(ag.ContainerID)
		if err != nil || len(mounts) != 5 || !mounts[0].ReadOnly || mounts[0].Destination != ws ||
			mounts[2] != (sandbox.Mount{Volume: mounts[0].Volume, SubPath: "output", Destination: ws + "/output"}) {
			t.Errorf("mounts in read-only mode: %+v %v", mounts, err)
		}
		code, body := tr(t, s, "PUT", "/research-agent/read-only", map[string]any{"enabled": true, "config": map[string]any{"allowed_patterns": []string{"/abs"}}}, alice, nil)
		wantDetail(t, code, body, "config.allowed_patterns")
		if code, body := tr(t, s, "PUT", "/research-agent/read-only", map[string]any{"enabled": false}, alice, &ro); code != 200 || ro.Enabled {
			t.Errorf("read-only off: %d %s", code, body)
		}
		if mounts, _ := s.Driver.Mounts(ag.ContainerID); len(mounts) != 1 || mounts[0].ReadOnly {
			t.Errorf("mounts after read-only off: %+v", mounts)
		}
	})

	t.Run("Shares", func(t *testing.T) {
		if code, body := tr(t, s, "POST", "/research-agent/share", map[string]any{"email": "nobody@example.com"}, alice, nil); code != 404 {
			t.Errorf("share with an unknown email: %d %s", code, body)
		}
		var sh struct {
			AgentName string `json:"agent_name"`
			With      string `json:"shared_with_email"`
		}
		if code, body := tr(t, s, "POST", "/research-agent/share", map[string]any{"email": "bob@example.com"}, alice, &sh); code != 200 || sh.With != "bob@example.com" {
			t.Fatalf("share: %d %s", code, body)
		}
		if code, body := tr(t, s, "POST", "/research-agent/share", map[string]any{"email": "bob@example.com"}, alice, nil); code != 409 {
			t.Errorf("share twice: %d %s", code, body)
		}
		var list []agentStatus
		if code, _ := tr(t, s, "GET", "", nil, bob, &list); code != 200 || len(list) != 1 {
			t.Errorf("bob's list with a share: %d %v", code, list)
		}
		var d struct {
			IsOwner  bool `json:"is_owner"`
			IsShared bool `json:"is_shared"`
			CanShare bool `json:"can_share"`
		}
		if code, body := tr(t, s, "GET", "/research-agent", nil, bob, &d); code != 200 || d.IsOwner || !d.IsShared || d.CanShare {
			t.Errorf("bob's detail: %d %s", code, body)
		}
		for _, r := range []struct{ method, path string }{{"POST", "/stop"}, {"POST", "/start"}, {"GET", "/logs"}} {
			if code, body := tr(t, s, r.method, "/research-agent"+r.path, nil, bob, nil); code != 200 {
				t.Errorf("shared bob %s %s: %d %s", r.method, r.path, code, body)
			}
		}
		for _, r := range []struct{ method, path string }{{"DELETE", ""}, {"PUT", "/rename"}, {"GET", "/shares"}, {"PUT", "/tags"}} {
			if code, body := tr(t, s, r.method, "/research-agent"+r.path, map[string]any{"new_name": "x", "tags": []string{}}, bob, nil); code != 403 {
				t.Errorf("shared bob %s %s: %d %s, want 403", r.method, r.path, code, body)
			}
		}
		var shs []struct {
			With string `json:"shared_with_email"`
		}
		if code, body := tr(t, s, "GET", "/research-agent/shares", nil, alice, &shs); code != 200 || len(shs) != 1 || shs[0].With != "bob@example.com" {
			t.Errorf("shares: %d %s", code, body)
		}
		if code, body := tr(t, s, "DELETE", "/research-agent/share/bob@example.com", nil, alice, nil); code != 200 {
			t.Errorf("unshare: %d %s", code, body)
		}
		if code, body := tr(t, s, "DELETE", "/research-agent/share/bob@example.com", nil, alice, nil); code != 404 {
			t.Errorf("unshare again: %d %s", code, body)
		}
		if code, _ := tr(t, s, "GET", "/research-agent", nil, bob, nil); code != 404 {
			t.Errorf("bob after unshare: %d", code)
		}
	})

	t.Run("Folders", func(t *testing.T) {
		var cons agentStatus
		if code, body := tr(t, s, "POST", "", map[string]any{"name": "consumer", "runtime": "shell"}, alice, &cons); code != 200 {
			t.Fatalf("create consumer: %d %s", code, body)
		}
		var f struct {
			Expose  bool    `json:"expose_enabled"`
			Consume bool    `json:"consume_enabled"`
			Volume  *string `json:"exposed_volume"`
			Restart bool    `json:"restart_required"`
		}
		if code, body := tr(t, s, "PUT", "/research-agent/folders", map[string]any{"expose_enabled": true}, alice, &f); code != 200 || !f.Expose || f.Volume == nil || !f.Restart {
			t.Errorf("expose: %d %s", code, body)
		}
		if code, body := tr(t, s, "PUT", "/consumer/folders", map[string]any{"consume_enabled": true}, alice, &f); code != 200 || !f.Consume {
			t.Errorf("consume: %d %s", code, body)
		}
		var av struct {
			Available []struct {
				Source string `json:"source_agent"`
				Path   string `json:"mount_path"`
			} `json:"available_folders"`
		}
		if code, body := tr(t, s, "GET", "/consumer/folders/available", nil, alice, &av); code != 200 || len(av.Available) != 1 ||
			av.Available[0].Source != "research-agent" || av.Available[0].Path != ws+"/shared-in/research-agent" {
			t.Errorf("available: %d %s", code, body)
		}
		var cs struct {
			Consumers []struct {
				Name string `json:"agent_name"`
			}
		}
		if code, body := tr(t, s, "GET", "/research-agent/folders/consumers", nil, alice, &cs); code != 200 || len(cs.Consumers) != 1 || cs.Consumers[0].Name != "consumer" {
			t.Errorf("consumers: %d %s", code, body)
		}
		for _, step := range []string{"/stop", "/start"} {
			for _, a := range []string{"/research-agent", "/consumer"} {
				if code, body := tr(t, s, "POST", a+step, nil, alice, nil); code != 200 {
					t.Fatalf("%s%s: %d %s", a, step, code, body)
				}
			}
		}
		if mounts, _ := s.Driver.Mounts(cons.ContainerID); len(mounts) != 2 || mounts[1].Destination != ws+"/shared-in/research-agent" || !mounts[1].ReadOnly {
			t.Errorf("consumer's mounts: %+v", mounts)
		}
		if mounts, _ := s.Driver.Mounts(ag.ContainerID); len(mounts) != 2 || mounts[1].Destination != ws+"/shared-out" || mounts[1].ReadOnly {
			t.Errorf("producer's mounts: %+v", mounts)
		}
		// bob's agent may not mount alice's folder.
		tr(t, s, "POST", "", map[string]any{"name": "bobs", "runtime": "shell"}, bob, nil)
		tr(t, s, "PUT", "/bobs/folders", map[string]any{"consume_enabled": true}, bob, nil)
		if code, body := tr(t, s, "GET", "/bobs/folders/available", nil, bob, &av); code != 200 || len(av.Available) != 0 {
			t.Errorf("bob's available: %d %s", code, body)
		}
		// Once alice shares her producer with bob, his agent may mount its folder.
		tr(t, s, "POST", "/research-agent/share", map[string]any{"email": "bob@example.com"}, alice, nil)
		if code, body := tr(t, s, "GET", "/bobs/folders/available", nil, bob, &av); code != 200 || len(av.Available) != 1 {
			t.Errorf("bob's available with a share: %d %s", code, body)
		}
		tr(t, s, "DELETE", "/research-agent/share/bob@example.com", nil, alice, nil)
	})

	t.Run("RenameAndDelete", func(t *testing.T) {
		if code, body := tr(t, s, "PUT", "/research-agent/rename", map[string]any{"new_name": "consumer"}, alice, nil); code != 409 {
			t.Errorf("rename to a taken name: %d %s", code, body)
		}
		var rn struct {
			Old string `json:"old_name"`
			New string `json:"new_name"`
		}
		if code, body := tr(t, s, "PUT", "/research-agent/rename", map[string]any{"new_name": "Renamed"}, alice, &rn); code != 200 || rn.New != "renamed" {
			t.Fatalf("rename: %d %s", code, body)
		}
		if code, _ := tr(t, s, "GET", "/research-agent", nil, alice, nil); code != 404 {
			t.Errorf("old name: %d", code)
		}
		var tl struct{ Tags []string }
		if code, _ := tr(t, s, "GET", "/renamed/tags", nil, alice, &tl); code != 200 || len(tl.Tags) != 2 {
			t.Errorf("tags after rename: %d %v", code, tl)
		}
		// The runtime's output of earlier starts was saved at each stop.
		var l struct{ Logs string }
		if code, _ := tr(t, s, "GET", "/renamed/logs", nil, alice, &l); code != 200 || strings.Count(l.Logs, "runtime-started") < 2 {
			t.Errorf("logs across restarts: %q", l.Logs)
		}
		if code, body := tr(t, s, "DELETE", "/renamed", nil, alice, nil); code != 200 || !strings.Contains(body, "Agent renamed deleted") {
			t.Errorf("delete: %d %s", code, body)
		}
		if code, _ := tr(t, s, "GET", "/renamed", nil, alice, nil); code != 404 {
			t.Errorf("after delete: %d", code)
		}
		// The producer's folder stays while the running consumer mounts it, and goes when the
		// consumer remounts without it.
		volumes := func() []string {
			vols, _ := s.Driver.ListVolumes(t.Context())
			var ids []string
			for _, v := range vols {
				ids = append(ids, v.ID[:3])
			}
			return ids
		}
		if v := volumes(); !slices.Equal(v, []string{"sh-", "ws-", "ws-"}) {
			t.Errorf("volumes after delete: %v, want the folder and the other two workspaces", v)
		}
		tr(t, s, "POST", "/consumer/stop", nil, alice, nil)
		if code, body := tr(t, s, "POST", "/consumer/start", nil, alice, nil); code != 200 {
			t.Fatalf("restart consumer: %d %s", code, body)
		}
		if v := volumes(); !slices.Equal(v, []string{"ws-", "ws-"}) {
			t.Errorf("volumes after the consumer's restart: %v, want the two workspaces", v)
		}
	})
}

// TestTrinitySchedulesAndCredentialsRoutes: the schedule, credential and SSH routes of
// /api/agents on the fake driver: CRUD, bad input naming the field, who may change what, and
// the 503 of SSH access on a server without a gateway.
func TestTrinitySchedulesAndCredentialsRoutes(t *testing.T) {
	s, ws := trinityServer(t)
	alice, bob := users(t, s)
	if code, body := tr(t, s, "POST", "", map[string]any{"name": "sched", "runtime": "shell"}, alice, nil); code != 200 {
		t.Fatalf("create: %d %s", code, body)
	}
	var sc struct {
		ID        string
		AgentName string `json:"agent_name"`
		Enabled   bool
	}
	code, body := tr(t, s, "POST", "/sched/schedules", map[string]any{"name": "daily", "cron_expression": "0 9 * * *",
		"message": "summarise the news", "timezone": "Europe/Paris"}, alice, &sc)
	if code != 201 || sc.ID == "" || sc.AgentName != "sched" || !sc.Enabled {
		t.Fatalf("create schedule: %d %s", code, body)
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "x", "cron_expression": "every day"}, "cron_expression"},
		{map[string]any{"name": "x", "cron_expression": "0 9 * * *", "message": "m", "timezone": "Mars/Olympus"}, "timezone"},
	} {
		code, body := tr(t, s, "POST", "/sched/schedules", c.body, alice, nil)
		if code != 400 || !strings.Contains(body, c.field) {
			t.Errorf("%v: %d %s, want 400 naming %s", c.body, code, body, c.field)
		}
	}
	var list []struct{ ID string }
	if code, body := tr(t, s, "GET", "/sched/schedules", nil, alice, &list); code != 200 || len(list) != 1 || list[0].ID != sc.ID {
		t.Errorf("list: %d %s", code, body)
	}
	if code, body := tr(t, s, "PUT", "/sched/schedules/"+sc.ID, map[string]any{"enabled": false}, alice, &sc); code != 200 || sc.Enabled {
		t.Errorf("disable: %d %s", code, body)
	}
	var execs []any
	for _, path := range []string{"/sched/schedules/" + sc.ID + "/executions", "/sched/executions?limit=10"} {
		if code, body := tr(t, s, "GET", path, nil, alice, &execs); code != 200 || len(execs) != 0 {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	if code, _ := tr(t, s, "GET", "/sched/schedules/nope/executions", nil, alice, nil); code != 404 {
		t.Errorf("executions of an unknown schedule: %d, want 404", code)
	}
	// Another user sees nothing; a user the agent is shared with reads but does not change.
	if code, _ := tr(t, s, "GET", "/sched/schedules", nil, bob, nil); code != 404 {
		t.Errorf("another user's schedules: %d, want 404", code)
	}
	tr(t, s, "POST", "/sched/share", map[string]any{"email": "bob@example.com"}, alice, nil)
	if code, _ := tr(t, s, "GET", "/sched/schedules/"+sc.ID, nil, bob, nil); code != 200 {
		t.Errorf("shared user reads a schedule: %d", code)
	}
	for _, c := range []struct{ method, path string }{{"POST", "/sched/schedules"}, {"DELETE", "/sched/schedules/" + sc.ID},
		{"POST", "/sched/credentials/inject"}, {"GET", "/sched/credentials/status"}, {"POST", "/sched/ssh-access"}} {
		if code, body := tr(t, s, c.method, c.path, map[string]any{"name": "x", "cron_expression": "0 9 * * *", "command": "true"}, bob, nil); code != 403 {
			t.Errorf("shared user %s %s: %d %s, want 403", c.method, c.path, code, body)
		}
	}

	// Credentials land in the workspace (the fake driver's is a host directory), mode 600.
	if code, body := tr(t, s, "POST", "/sched/credentials/inject", map[string]any{"files": map[string]string{".env": "K=v\n"}}, alice, nil); code != 200 {
		t.Fatalf("inject: %d %s", code, body)
	}
	if fi, err := os.Stat(filepath.Join(ws, ".env")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("injected .env: %v %v", fi, err)
	}
	var st struct {
		Files           map[string]struct{ Exists bool }
		CredentialCount int `json:"credential_count"`
	}
	if code, body := tr(t, s, "GET", "/sched/credentials/status", nil, alice, &st); code != 200 || !st.Files[".env"].Exists || st.CredentialCount != 1 {
		t.Errorf("status: %d %s", code, body)
	}
	for _, p := range []string{"../x", "/etc/x"} {
		if code, body := tr(t, s, "POST", "/sched/credentials/inject", map[string]any{"files": map[string]string{p: "x"}}, alice, nil); code != 400 {
			t.Errorf("inject %s: %d %s, want 400", p, code, body)
		}
	}
	var exp struct {
		Bundle map[string]any `json:"bundle"`
	}
	if code, body := tr(t, s, "POST", "/sched/credentials/export", nil, alice, &exp); code != 200 || exp.Bundle["algorithm"] != "AES-256-GCM" {
		t.Fatalf("export: %d %s", code, body)
	}
	if code, body := tr(t, s, "POST", "/sched/credentials/import", map[string]any{"bundle": exp.Bundle}, alice, nil); code != 200 {
		t.Errorf("import: %d %s", code, body)
	}
	exp.Bundle["ciphertext"] = "AAAA" + exp.Bundle["ciphertext"].(string)[4:]
	if code, body := tr(t, s, "POST", "/sched/credentials/import", map[string]any{"bundle": exp.Bundle}, alice, nil); code != 400 {
		t.Errorf("import of a tampered bundle: %d %s, want 400", code, body)
	}

	if code, body := tr(t, s, "POST", "/sched/ssh-access", map[string]any{}, alice, nil); code != 503 || !strings.Contains(body, "--ssh-listen") {
		t.Errorf("ssh-access without a gateway: %d %s, want 503 naming --ssh-listen", code, body)
	}
	if code, body := tr(t, s, "DELETE", "/sched/schedules/"+sc.ID, nil, alice, nil); code != 200 {
		t.Errorf("delete schedule: %d %s", code, body)
	}
	if code, _ := tr(t, s, "GET", "/sched/schedules/"+sc.ID, nil, alice, nil); code != 404 {
		t.Errorf("deleted schedule: %d, want 404", code)
	}
}
