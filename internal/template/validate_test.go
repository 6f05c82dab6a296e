package template

import (
	"errors"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/profile"
	"github.com/paddock/paddock/internal/sandbox"
)

func valid() Template {
	return Template{Name: "web", Image: "python:3.12-alpine", Description: "a web app"}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Template)
		field string // "" = valid
	}{
		{"minimal", func(*Template) {}, ""},
		{"agent-sandbox code-interpreter", func(t *Template) {
			t.Port, t.Args, t.EnvVars = 49999, []string{"/start-up.sh"}, map[string]string{"A": "1"}
			t.Metadata = map[string]string{"runtimeClassName": "gvisor"}
			t.Resources = &Resources{CPU: "50m", Memory: "100Mi", CPULimit: "2", MemoryLimit: "4000Mi"}
			t.Pool = &Pool{Size: 2, ProbePort: 8888, WarmupCmd: "python3, -c import os",
				Resources: &Resources{CPU: "0", Memory: "60Mi", CPULimit: "0.2", MemoryLimit: "100Mi"}}
		}, ""},
		{"paddock fields", func(t *Template) {
			t.Image, t.Profile, t.Network, t.User, t.StartCmd = "base", "restrictive", "none", "user", "sleep 1"
			t.Prewarm = []string{"python", "js"}
		}, ""},
		{"no name", func(t *Template) { t.Name = "" }, "name is required"},
		{"bad name", func(t *Template) { t.Name = "a b" }, "name"},
		{"no image", func(t *Template) { t.Image = "" }, "image"},
		{"bad image", func(t *Template) { t.Image = "Python:3" }, "image"},
		{"no description", func(t *Template) { t.Description = " " }, "description"},
		{"port", func(t *Template) { t.Port = 70000 }, "port"},
		{"dynamic", func(t *Template) { t.Type = "dynamic" }, "type"},
		{"env name", func(t *Template) { t.EnvVars = map[string]string{"A=B": "x"} }, "envVars"},
		{"profile", func(t *Template) { t.Profile = "lax" }, "profile"},
		{"network", func(t *Template) { t.Network = "host" }, "network"},
		{"user", func(t *Template) { t.User = "1:x" }, "user"},
		{"prewarm", func(t *Template) { t.Prewarm = []string{"cobol"} }, "prewarm"},
		{"two start commands", func(t *Template) { t.StartCmd, t.Args = "a", []string{"b"} }, "startCmd"},
		{"empty program", func(t *Template) { t.Args = []string{""} }, "args"},
		{"cpu", func(t *Template) { t.Resources = &Resources{CPULimit: "two"} }, "resources.cpuLimit"},
		{"cpu range", func(t *Template) { t.Resources = &Resources{CPULimit: "5000"} }, "resources.cpuLimit"},
		{"memory", func(t *Template) { t.Resources = &Resources{MemoryLimit: "4Gb"} }, "resources.memoryLimit"},
		{"memory too small", func(t *Template) { t.Resources = &Resources{MemoryLimit: "1Mi"} }, "resources.memoryLimit"},
		{"memory request", func(t *Template) { t.Resources = &Resources{Memory: "-1Mi"} }, "resources.memory"},
		{"pids", func(t *Template) { t.Resources = &Resources{Pids: 3} }, "resources.pids"},
		{"disk", func(t *Template) { t.Resources = &Resources{Disk: "lots"} }, "resources.disk"},
		{"disk too small", func(t *Template) { t.Resources = &Resources{Disk: "1Mi"} }, "resources.disk"},
		{"disk ok", func(t *Template) { t.Resources = &Resources{Disk: "10Gi"} }, ""},
		{"pool size", func(t *Template) { t.Pool = &Pool{Size: 1001} }, "pool.size"},
		{"pool resources", func(t *Template) { t.Pool = &Pool{Size: 1, Resources: &Resources{CPU: "x"}} }, "pool.resources.cpu"},
		{"warmup", func(t *Template) { t.Pool = &Pool{Size: 1, WarmupCmd: ", -c x"} }, "pool.warmupCmd"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp := valid()
			c.edit(&tp)
			err := tp.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("valid template rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("err = %v, want an invalid-argument error", err)
			}
			if !strings.Contains(err.Error(), c.field) || (tp.Name != "" && !strings.Contains(err.Error(), `template "`+tp.Name+`"`)) {
				t.Errorf("err %q does not name the template and %s", err, c.field)
			}
		})
	}
}

func TestValidateList(t *testing.T) {
	a, b := valid(), valid()
	if err := ValidateList([]Template{a, b}); err == nil || !strings.Contains(err.Error(), `template "web": name is used twice`) {
		t.Errorf("duplicate names: %v", err)
	}
	b.Name = ""
	if err := ValidateList([]Template{a, b}); err == nil || !strings.Contains(err.Error(), "template #2: name is required") {
		t.Errorf("unnamed second template: %v", err)
	}
	if err := ValidateList(Builtins(4, []string{"python"})); err != nil {
		t.Errorf("built-ins: %v", err)
	}
}

func TestQuantities(t *testing.T) {
	cpus := map[string]float64{"2": 2, "0.5": 0.5, "500m": 0.5, "2000m": 2, " 1 ": 1}
	for s, want := range cpus {
		if got, err := ParseCPU(s); err != nil || got != want {
			t.Errorf("ParseCPU(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "m", "-1", "1e3", "two", "NaN", "Inf", "0x10", "1.5Gi"} {
		if _, err := ParseCPU(s); err == nil {
			t.Errorf("ParseCPU(%q) accepted", s)
		}
	}
	mems := map[string]int64{"100Mi": 100 << 20, "4Gi": 4 << 30, "1G": 1e9, "512M": 512e6, "1048576": 1 << 20,
		"1.5Gi": 3 << 29, "2Ki": 2048, "1k": 1000}
	for s, want := range mems {
		if got, err := ParseMemory(s); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "Mi", "-1Mi", "4Gb", "1e9", "1Pi", "9999999Ti", "0x10"} {
		if _, err := ParseMemory(s); err == nil {
			t.Errorf("ParseMemory(%q) accepted", s)
		}
	}
}

func FuzzQuantities(f *testing.F) {
	for _, s := range []string{"500m", "2", "4Gi", "100Mi", "1G", "0.5", "-1", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := ParseCPU(s); err == nil && (v < 0 || v != v) {
			t.Errorf("ParseCPU(%q) = %v", s, v)
		}
		if v, err := ParseMemory(s); err == nil && (v < 0 || v > maxMemoryBytes) {
			t.Errorf("ParseMemory(%q) = %v", s, v)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`[{"name":"a","image":"base","description":"d","pool":{"size":1,"warmupCmd":"sh, -c true"}}]`))
	f.Add([]byte(`[{"name":"b","image":"alpine","description":"d","resources":{"memoryLimit":"1Gi"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := Parse(data)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("Parse error %v is not invalid-argument", err)
			}
			return
		}
		for _, tp := range ts {
			// A template that validates always makes a spec the profile accepts.
			if _, _, _, err := profile.Resolve(tp.Apply(sandbox.Spec{})); err != nil {
				t.Errorf("template %q validates but its spec does not resolve: %v", tp.Name, err)
			}
			_ = tp.PoolConfig()
			_ = tp.StartCommand()
		}
	})
}

func TestSplitCommand(t *testing.T) {
	cases := map[string][]string{
		"":                           nil,
		"/start-up.sh":               {"/start-up.sh"},
		"python3, -c import os":      {"python3", "-c", "import", "os"},
		"jupyter server --port 8888": {"jupyter", "server", "--port", "8888"},
		" sh ,  -c   true ":          {"sh", "-c", "true"},
	}
	for in, want := range cases {
		got, err := splitCommand(in)
		if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("splitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
