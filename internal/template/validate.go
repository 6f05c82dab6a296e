package template

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/kernel"
	"github.com/paddock/paddock/internal/profile"
	"github.com/paddock/paddock/internal/sandbox"
)

// validName is what a template may be called: E2B template IDs and Agent-Sandbox names.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// MaxPoolSize bounds one template's warm pool.
const MaxPoolSize = 1000

// ValidateList checks every template and that names are unique. Errors are of class
// errdefs.ErrInvalidArgument and name the template and the field.
func ValidateList(ts []Template) error {
	seen := map[string]bool{}
	for i, t := range ts {
		if err := t.Validate(); err != nil {
			if t.Name == "" {
				return errdefs.InvalidArgument("template #%d: %v", i+1, err)
			}
			return err
		}
		if seen[t.Name] {
			return errdefs.InvalidArgument("template %q: name is used twice", t.Name)
		}
		seen[t.Name] = true
	}
	return nil
}

// RefuseZeroPorts refuses templates of a JSON list that give "port": 0, which decoding
// cannot tell apart from no port (8080). Input that is not such a list is left to the
// strict decoding to report.
func RefuseZeroPorts(data []byte) error {
	var raw []struct {
		Name string       `json:"name"`
		Port *json.Number `json:"port"`
	}
	if json.Unmarshal(data, &raw) != nil {
		return nil
	}
	for _, t := range raw {
		if t.Port != nil {
			if f, err := t.Port.Float64(); err == nil && f == 0 {
				return Template{Name: t.Name}.invalid("port", "0 is not a port: use 1-65535 (or omit it for 8080)")
			}
		}
	}
	return nil
}

// Validate checks one template. The error names the template and the field.
func (t Template) Validate() error {
	if t.Name == "" {
		return errdefs.InvalidArgument("name is required")
	}
	if !validName.MatchString(t.Name) {
		return t.invalid("name", "use letters, digits, '.', '_' and '-' (at most 128, starting with a letter or digit)")
	}
	for _, check := range []func() error{t.checkImage, t.checkBasics, t.checkCommands, t.checkResources, t.checkPool} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// invalid is a validation error naming the template and field.
func (t Template) invalid(field, format string, args ...any) error {
	return errdefs.InvalidArgument("template %q: %s: %s", t.Name, field, fmt.Sprintf(format, args...))
}

func (t Template) checkImage() error {
	switch {
	case t.Image == "":
		return t.invalid("image", "is required (\"base\" or an OCI reference such as python:3.12-alpine)")
	case t.Image == "base":
		return nil
	}
	if _, err := name.ParseReference(t.Image); err != nil {
		return t.invalid("image", "%q is not an image reference: %v", t.Image, err)
	}
	return nil
}

func (t Template) checkBasics() error {
	switch {
	case strings.TrimSpace(t.Description) == "":
		return t.invalid("description", "is required")
	case t.Port < 0 || t.Port > 65535:
		return t.invalid("port", "%d is not a port: use 1-65535 (or omit it for 8080)", t.Port)
	case t.Type == "dynamic":
		return t.invalid("type", "dynamic templates are not supported: list each image as its own template")
	case t.Type != "":
		return t.invalid("type", "%q is not a template type: omit it", t.Type)
	}
	for k := range t.EnvVars {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return t.invalid("envVars", "%q is not a variable name", k)
		}
	}
	if _, err := profile.Get(t.Profile); err != nil {
		return t.invalid("profile", "%v", err)
	}
	switch sandbox.NetworkMode(t.Network) {
	case "", sandbox.NetworkNone, sandbox.NetworkEgress:
	default:
		return t.invalid("network", "%q is not a mode: use none or egress", t.Network)
	}
	if t.User != "" {
		if _, _, _, err := profile.Resolve(sandbox.Spec{Profile: t.Profile, User: t.User}); err != nil {
			return t.invalid("user", "%v", err)
		}
	}
	for _, l := range t.Prewarm {
		if _, ok := kernel.Lookup(l); !ok {
			return t.invalid("prewarm", "%q is not a language: use %s", l, strings.Join(kernel.Languages(), ", "))
		}
	}
	return nil
}

func (t Template) checkCommands() error {
	set := 0
	for _, given := range []bool{strings.TrimSpace(t.StartCmd) != "", len(t.Args) > 0, t.Pool != nil && t.Pool.StartupCmd != ""} {
		if given {
			set++
		}
	}
	if set > 1 {
		return t.invalid("startCmd", "give one of startCmd, args and pool.startupCmd")
	}
	if len(t.Args) > 0 && t.Args[0] == "" {
		return t.invalid("args", "the first argument is the program and must not be empty")
	}
	if t.Pool != nil {
		if _, err := splitCommand(t.Pool.StartupCmd); err != nil {
			return t.invalid("pool.startupCmd", "%v", err)
		}
		if _, err := splitCommand(t.Pool.WarmupCmd); err != nil {
			return t.invalid("pool.warmupCmd", "%v", err)
		}
	}
	return nil
}

func (t Template) checkResources() error {
	if t.Resources == nil {
		return nil
	}
	return t.Resources.check(t, "resources")
}

func (r *Resources) check(t Template, prefix string) error {
	for _, q := range []struct {
		field, value string
		cpu          bool
	}{{"cpu", r.CPU, true}, {"cpuLimit", r.CPULimit, true}, {"memory", r.Memory, false}, {"memoryLimit", r.MemoryLimit, false}} {
		if q.value == "" {
			continue
		}
		var spec sandbox.Spec
		if q.cpu {
			v, err := ParseCPU(q.value)
			if err != nil {
				return t.invalid(prefix+"."+q.field, "%v", err)
			}
			spec.VCPUs = v
		} else {
			v, err := ParseMemory(q.value)
			if err != nil {
				return t.invalid(prefix+"."+q.field, "%v", err)
			}
			spec.MemoryMB = mebibytes(v)
		}
		// Requests must fit the same bounds as limits, or a limit below them is meaningless.
		if _, _, _, err := profile.Resolve(spec); err != nil {
			return t.invalid(prefix+"."+q.field, "%q: %v", q.value, err)
		}
	}
	if r.Pids != 0 {
		if _, _, _, err := profile.Resolve(sandbox.Spec{Pids: r.Pids}); err != nil {
			return t.invalid(prefix+".pids", "%v", err)
		}
	}
	if r.Disk != "" {
		v, err := ParseMemory(r.Disk)
		if err == nil {
			_, _, _, err = profile.Resolve(sandbox.Spec{DiskMB: mebibytes(v)})
		}
		if err != nil {
			return t.invalid(prefix+".disk", "%q: %v", r.Disk, err)
		}
	}
	return nil
}

func (t Template) checkPool() error {
	if t.Pool == nil {
		return nil
	}
	p := t.Pool
	switch {
	case p.Size < 0 || p.Size > MaxPoolSize:
		return t.invalid("pool.size", "%d is out of range: use 0 to %d", p.Size, MaxPoolSize)
	case p.ProbePort < 0 || p.ProbePort > 65535:
		return t.invalid("pool.probePort", "%d is not a port", p.ProbePort)
	}
	if p.Resources != nil {
		return p.Resources.check(t, "pool.resources")
	}
	return nil
}

// splitCommand parses Agent-Sandbox's command form "<cmd>, <arg1> <arg2>" (the program, a
// comma, then space-separated arguments) into argv. A string without a comma is split on
// spaces. The empty string is no command.
func splitCommand(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	prog, rest, _ := strings.Cut(s, ",")
	prog = strings.TrimSpace(prog)
	if prog == "" || strings.ContainsRune(prog, 0) || strings.ContainsRune(rest, 0) {
		return nil, fmt.Errorf("%q: want \"<program>, <arg1> <arg2>\"", s)
	}
	argv := strings.Fields(prog)
	return append(argv, strings.Fields(rest)...), nil
}
