// Package template is Paddock's sandbox templates: named defaults (image, profile, env vars,
// resources, port, start command, warm pool) in Agent-Sandbox's JSON format plus Paddock's own
// fields, kept in a JSON file that is reloaded when it changes.
package template

// Template is one entry of the templates file. Fields up to Pool are Agent-Sandbox's
// (config/templates.json); the rest are Paddock's. Zero values mean "no default".
type Template struct {
	Name        string `json:"name"`
	Image       string `json:"image"`
	Description string `json:"description"`
	// Port is where the sandbox's application listens (recorded on the sandbox; 0 = 8080).
	Port int `json:"port,omitempty"`
	// Type is Agent-Sandbox's template type; only "" (static) is supported.
	Type string `json:"type,omitempty"`
	// Args is the argv of the start command when StartCmd is empty (Agent-Sandbox passes
	// them to the container; Paddock runs no image entrypoint, so they are the command).
	Args    []string          `json:"args,omitempty"`
	EnvVars map[string]string `json:"envVars,omitempty"`
	// Shell is the terminal shell Agent-Sandbox's UI opens (kept, not used by Paddock).
	Shell string `json:"shell,omitempty"`
	// NoStartupProbe is accepted for Agent-Sandbox compatibility; Paddock always waits for
	// its guest, never for the application.
	NoStartupProbe bool              `json:"noStartupProbe,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	Resources      *Resources        `json:"resources,omitempty"`
	Pool           *Pool             `json:"pool,omitempty"`

	// Profile is the security profile (permissive, moderate, restrictive; "" = moderate).
	Profile string `json:"profile,omitempty"`
	// Network is "none" or "egress" ("" = the profile's).
	Network string `json:"network,omitempty"`
	// User is the default user of processes ("" = the image's, then the profile's).
	User string `json:"user,omitempty"`
	// StartCmd runs through /bin/sh -c in the background once a sandbox is created.
	StartCmd string `json:"startCmd,omitempty"`
	// Prewarm lists code-context languages whose interpreter warm sandboxes keep running.
	Prewarm []string `json:"prewarm,omitempty"`
}

// Resources are Kubernetes-style quantities, as Agent-Sandbox writes them: cpu "500m" or
// "2", memory "512Mi" or "4Gi". Limits are enforced; requests are validated only (runc has no
// scheduler to reserve them with).
type Resources struct {
	CPU         string `json:"cpu,omitempty"`
	Memory      string `json:"memory,omitempty"`
	CPULimit    string `json:"cpuLimit,omitempty"`
	MemoryLimit string `json:"memoryLimit,omitempty"`
	// Pids is Paddock's process limit (0 = the profile's).
	Pids int64 `json:"pids,omitempty"`
	// Disk is Paddock's size of the writable layer, a quantity like memory ("" = the
	// profile's); with a read-only root it sizes /tmp.
	Disk string `json:"disk,omitempty"`
}

// Pool is a template's warm pool.
type Pool struct {
	Size int `json:"size"`
	// ProbePort is accepted for Agent-Sandbox compatibility (Paddock probes its guest).
	ProbePort int `json:"probePort,omitempty"`
	// WarmupCmd runs to completion in each warm sandbox before it joins the pool, in
	// Agent-Sandbox's form "<cmd>, <arg1> <arg2>".
	WarmupCmd string `json:"warmupCmd,omitempty"`
	// StartupCmd is the start command in Agent-Sandbox's form, used when neither StartCmd
	// nor Args is set.
	StartupCmd string `json:"startupCmd,omitempty"`
	// Resources is accepted for Agent-Sandbox compatibility: warm sandboxes have the
	// template's limits, since they become the claimed sandbox.
	Resources *Resources `json:"resources,omitempty"`
}

// Names of the built-in templates.
const (
	Base            = "base"
	CodeInterpreter = "code-interpreter-v1"
)

// Builtins returns the templates that exist unless the file overrides them: base (the base
// image, moderate profile) and code-interpreter-v1 (E2B's code interpreter: python and
// javascript code contexts on the base image, default user "user", port 49999). Each keeps
// poolSize warm sandboxes that prewarm the given languages.
func Builtins(poolSize int, prewarm []string) []Template {
	pool := func() *Pool {
		if poolSize <= 0 {
			return nil
		}
		return &Pool{Size: poolSize}
	}
	pre := append([]string(nil), prewarm...)
	return []Template{
		{Name: Base, Image: "base", Profile: "moderate", Pool: pool(), Prewarm: pre,
			Description: "Paddock's built-in image: the host's /usr read-only (python3, node, coreutils) under the moderate profile"},
		{Name: CodeInterpreter, Image: "base", Profile: "moderate", User: "user", Port: 49999, Pool: pool(),
			Prewarm:     append([]string(nil), pre...),
			Description: "E2B code interpreter: python and javascript code contexts on the base image"},
	}
}

// clone returns a deep copy of t.
func (t Template) clone() Template {
	c := t
	c.Args = append([]string(nil), t.Args...)
	c.Prewarm = append([]string(nil), t.Prewarm...)
	c.EnvVars = cloneMap(t.EnvVars)
	c.Metadata = cloneMap(t.Metadata)
	if t.Resources != nil {
		r := *t.Resources
		c.Resources = &r
	}
	if t.Pool != nil {
		p := *t.Pool
		if p.Resources != nil {
			r := *p.Resources
			p.Resources = &r
		}
		c.Pool = &p
	}
	return c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
