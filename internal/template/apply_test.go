package template

import (
	"reflect"
	"testing"

	"github.com/paddock/paddock/internal/sandbox"
)

func TestApply(t *testing.T) {
	tp := Template{Name: "web", Image: "python:3.12-alpine", Description: "d", Port: 3000, Profile: "restrictive",
		Network: "none", User: "user", EnvVars: map[string]string{"A": "1", "B": "2"},
		Resources: &Resources{CPU: "100m", CPULimit: "500m", MemoryLimit: "1Gi", Pids: 100, Disk: "1Gi"}}
	got := tp.Apply(sandbox.Spec{Name: "x", MemoryMB: 256, Env: map[string]string{"B": "mine"}})
	want := sandbox.Spec{Name: "x", Template: "web", Image: "python:3.12-alpine", Profile: "restrictive",
		Network: sandbox.NetworkNone, DefaultUser: "user", Port: 3000, VCPUs: 0.5, MemoryMB: 256, Pids: 100, DiskMB: 1024,
		Env: map[string]string{"A": "1", "B": "mine"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Apply =\n%+v\nwant\n%+v", got, want)
	}
	if tp.EnvVars["B"] != "2" {
		t.Errorf("Apply changed the template's env")
	}
	if c := tp.PoolConfig(); c.DiskMB != 1024 {
		t.Errorf("the template's pool has disk_mb %d, want 1024", c.DiskMB)
	}
	// A request that names its own image, profile, user and disk keeps them.
	got = tp.Apply(sandbox.Spec{Image: "base", Profile: "moderate", User: "root", Port: 8000, DiskMB: 64})
	if got.Image != "base" || got.Profile != "moderate" || got.DefaultUser != "" || got.Port != 8000 || got.DiskMB != 64 {
		t.Errorf("request fields overridden: %+v", got)
	}
}

func TestStartCommandAndPool(t *testing.T) {
	cases := []struct {
		tp   Template
		want []string
	}{
		{Template{StartCmd: "python3 -m http.server"}, []string{"/bin/sh", "-c", "python3 -m http.server"}},
		{Template{Args: []string{"/start-up.sh", "-v"}}, []string{"/start-up.sh", "-v"}},
		{Template{Pool: &Pool{StartupCmd: "jupyter, server --port 8888"}}, []string{"jupyter", "server", "--port", "8888"}},
		{Template{}, nil},
	}
	for _, c := range cases {
		if got := c.tp.StartCommand(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("StartCommand(%+v) = %q, want %q", c.tp, got, c.want)
		}
	}
	b := Builtins(3, []string{"python"})
	pools := Pools(append(b, Template{Name: "nopool", Image: "base", Description: "d"}))
	if len(pools) != 2 {
		t.Fatalf("Pools = %+v, want the two built-ins", pools)
	}
	ci := pools[1]
	if ci.Template != CodeInterpreter || ci.Size != 3 || ci.DefaultUser != "user" || !reflect.DeepEqual(ci.Prewarm, []string{"python"}) {
		t.Errorf("code-interpreter-v1 pool = %+v", ci)
	}
	if Pools(Builtins(0, nil)) != nil {
		t.Errorf("pool size 0 still makes pools")
	}
	w := Template{Name: "w", Image: "base", Description: "d", Pool: &Pool{Size: 1, WarmupCmd: "sh, -c true"}}
	if c := w.PoolConfig(); !reflect.DeepEqual(c.Warmup, []string{"sh", "-c", "true"}) {
		t.Errorf("warmup = %q", c.Warmup)
	}
}
