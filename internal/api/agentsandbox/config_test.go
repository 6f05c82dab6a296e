package agentsandbox_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/template"
)

func TestConfigTemplates(t *testing.T) {
	s := servertest.New(t)
	var ts []template.Template
	ok(t, s, "GET", v1+"/config/templates", nil, &ts)
	if len(ts) != 2 || ts[0].Name != template.Base {
		t.Fatalf("templates: %+v", ts)
	}
	ts = append(ts, template.Template{Name: "aio", Image: "base", Description: "all in one", User: servertest.User,
		EnvVars: map[string]string{"FROM": "aio"}, Resources: &template.Resources{CPULimit: "500m", MemoryLimit: "256Mi"}})
	var msg string
	if ok(t, s, "POST", v1+"/config/templates", ts, &msg); msg != "ok" {
		t.Errorf("save: %q", msg)
	}
	var saved []template.Template
	if ok(t, s, "GET", v1+"/config/templates", nil, &saved); len(saved) != 3 || saved[0].Name != "aio" || saved[0].EnvVars["FROM"] != "aio" {
		t.Fatalf("after save: %+v", saved)
	}
	ok(t, s, "POST", v1+"/sandbox", map[string]any{"name": "from-aio", "template": "aio"}, nil)
	var sb struct {
		Template    string
		CPULimit    string `json:"cpu_limit"`
		MemoryLimit string `json:"memory_limit"`
	}
	var out struct{ Output string }
	ok(t, s, "GET", v1+"/sandbox/from-aio", nil, &sb)
	ok(t, s, "POST", v1+"/terminal/sandbox/from-aio", map[string]any{"command": "echo $FROM"}, &out)
	if sb.Template != "aio" || sb.CPULimit != "500m" || sb.MemoryLimit != "256Mi" || out.Output != "aio\n" {
		t.Errorf("sandbox of aio: %+v, $FROM %q", sb, out.Output)
	}
	fails(t, s, "POST", v1+"/config/templates", []map[string]any{{"name": "x"}}, 400, "image")
	fails(t, s, "POST", v1+"/config/templates", []map[string]any{{"name": "x", "image": "base", "description": "d", "bogus": 1}}, 400, "bogus")
	fails(t, s, "POST", v1+"/config/templates", "{}", 400, "JSON array")
}

func TestConfigSandboxTemplate(t *testing.T) {
	s := servertest.New(t)
	var doc map[string]any
	ok(t, s, "GET", v1+"/config/sandbox-template", nil, &doc)
	if doc["image"] != "base" || doc["user"] != servertest.User {
		t.Fatalf("sandbox-template: %v", doc)
	}
	doc["envVars"] = map[string]string{"DEFAULTED": "yes"}
	doc["resources"] = map[string]string{"memoryLimit": "512Mi"}
	ok(t, s, "POST", v1+"/config/sandbox-template", doc, nil)
	var again map[string]any
	if ok(t, s, "GET", v1+"/config/sandbox-template", nil, &again); again["envVars"] == nil || again["resources"] == nil {
		t.Errorf("after save: %v", again)
	}
	create(t, s, "defaulted")
	var out struct{ Output string }
	var sb struct {
		MemoryLimit string `json:"memory_limit"`
	}
	ok(t, s, "POST", v1+"/terminal/sandbox/defaulted", map[string]any{"command": "echo $DEFAULTED"}, &out)
	ok(t, s, "GET", v1+"/sandbox/defaulted", nil, &sb)
	if out.Output != "yes\n" || sb.MemoryLimit != "512Mi" {
		t.Errorf("a new sandbox: $DEFAULTED %q, memory %q", out.Output, sb.MemoryLimit)
	}
	for _, c := range []struct {
		body, msg string
	}{
		{"apiVersion: apps/v1\nkind: ReplicaSet\n", "not a ReplicaSet YAML"},
		{`{"image":"base","tolerations":[]}`, "tolerations (there are no nodes to select)"},
		{`{"apiVersion":"apps/v1","spec":{}}`, "apiVersion (it is ReplicaSet structure); spec"},
		{`{"image":"base","colour":"red"}`, `unknown field "colour"`},
		{`{"profile":"moderate"}`, "image is required"},
		{`{"image":"base","profile":"lax"}`, "lax"},
		{``, "content is required"},
	} {
		fails(t, s, "POST", v1+"/config/sandbox-template", c.body, 400, c.msg)
	}
}

func TestPools(t *testing.T) {
	s := servertest.New(t, func(c *config.Config) {
		c.TemplatesFile = filepath.Join(servertest.Dir(t), "templates.json")
		b, _ := json.Marshal([]template.Template{
			{Name: template.Base, Image: "base", Description: "base", User: servertest.User},
			{Name: "warm", Image: "base", Description: "pooled", User: servertest.User, Pool: &template.Pool{Size: 1}},
		})
		if err := os.WriteFile(c.TemplatesFile, b, 0o600); err != nil {
			t.Fatal(err)
		}
	})
	type pool struct {
		Name string
		Pool struct{ Size, ReadySize int }
	}
	var pools []pool
	servertest.Eventually(t, "the warm pool filled", func() bool {
		ok(t, s, "GET", v1+"/pool", nil, &pools)
		return len(pools) == 1 && pools[0].Pool.ReadySize == 1
	})
	if pools[0].Name != "warm" || pools[0].Pool.Size != 1 {
		t.Errorf("pools: %+v", pools)
	}
	var warm []struct{ Template, Status string }
	if ok(t, s, "GET", v1+"/pool/sandbox/warm", nil, &warm); len(warm) != 1 || warm[0].Status != "ready" || warm[0].Template != "warm" {
		t.Errorf("pool sandboxes: %+v", warm)
	}
	before := instances(t, s)
	var msg string
	if ok(t, s, "DELETE", v1+"/pool/warm", nil, &msg); msg != "ok" {
		t.Errorf("delete pool: %q", msg)
	}
	servertest.Eventually(t, "the drained pool refilled with a new sandbox", func() bool {
		ok(t, s, "GET", v1+"/pool", nil, &pools)
		now := instances(t, s)
		return len(pools) == 1 && pools[0].Pool.ReadySize == 1 && len(now) == 1 && len(before) == 1 && now[0] != before[0]
	})
	fails(t, s, "GET", v1+"/pool/sandbox/base", nil, 404, "pool base not found")
	fails(t, s, "DELETE", v1+"/pool/nope", nil, 404, "pool nope not found")
}

// instances are the IDs of the fake driver's instances (here: the warm sandboxes).
func instances(t *testing.T, s *servertest.Server) []string {
	t.Helper()
	insts, err := s.Driver.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range insts {
		ids = append(ids, in.ID)
	}
	return ids
}
