package agentsandbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/template"
)

// createRequest is POST /api/v1/sandbox: the seed's name and image, and the fields of
// Agent-Sandbox's Sandbox object that Paddock honours. Decoded strictly: anything else is
// refused by name.
type createRequest struct {
	Name     string            `json:"name,omitempty"`
	Image    string            `json:"image,omitempty"`
	Template string            `json:"template,omitempty"`
	EnvVars  map[string]string `json:"envVars,omitempty"`
	// Timeout is the lifetime in seconds (0 = 1800, Agent-Sandbox's default; 9999 = none).
	Timeout  int               `json:"timeout,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// sandboxView is Agent-Sandbox's Sandbox object (pkg/sandbox Sandbox's JSON).
type sandboxView struct {
	Name        string            `json:"name"`
	Template    string            `json:"template,omitempty"`
	ID          string            `json:"id"`
	Image       string            `json:"image,omitempty"`
	Timeout     int               `json:"timeout,omitempty"`
	CPULimit    string            `json:"cpu_limit,omitempty"`
	MemoryLimit string            `json:"memory_limit,omitempty"`
	Port        int               `json:"port,omitempty"`
	Status      string            `json:"status"`
	CreatedAt   time.Time         `json:"created_at"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// Agent-Sandbox's limits on a sandbox's lifetime, in seconds.
const (
	defaultTimeout = 30 * 60
	maxTimeout     = 24 * 60 * 60
	noTimeout      = 9999
)

// nameRE is Agent-Sandbox's name rule (lowercase letters, digits and -, at most 50), with
// Paddock's: no - at either end.
var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$`)

// checkName refuses a name the seed's rule does not allow, and "metrics", which
// GET /api/v1/sandbox/metrics would shadow.
func checkName(name string) error {
	if !nameRE.MatchString(name) {
		return errdefs.InvalidArgument("invalid sandbox name %q: use lowercase letters, digits and -, at most 50, starting and ending with a letter or digit", name)
	}
	if name == "metrics" {
		return errdefs.InvalidArgument("sandbox name %q is reserved: GET %s/sandbox/metrics would shadow it", name, Prefix)
	}
	return nil
}

// generatedName is the name of a sandbox created without one.
func generatedName() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "sandbox-" + hex.EncodeToString(b)
}

// view is sb as Agent-Sandbox shows a sandbox.
func view(sb *sandbox.Sandbox) sandboxView {
	v := sandboxView{Name: sb.Name, Template: sb.Spec.Template, ID: sb.ID, Image: sb.Instance.Image.Ref,
		Port: manager.AppPort(sb), Status: status(sb.State), CreatedAt: sb.CreatedAt, Metadata: sb.Spec.Labels}
	if v.Template == "" {
		v.Template = "custom"
	}
	if sb.ExpiresAt != nil && sb.Spec.TTL > 0 {
		v.Timeout = int(sb.Spec.TTL / time.Second)
	}
	if res := sb.Instance.Resources; res.VCPUs > 0 {
		v.CPULimit = fmt.Sprintf("%dm", int64(res.VCPUs*1000+0.5))
	}
	if res := sb.Instance.Resources; res.MemoryMB > 0 {
		v.MemoryLimit = fmt.Sprintf("%dMi", res.MemoryMB)
	}
	return v
}

// status maps Paddock's states onto Agent-Sandbox's (creating, running, paused, unready).
func status(s sandbox.State) string {
	switch s {
	case sandbox.StateRunning, sandbox.StatePaused, sandbox.StateCreating:
		return string(s)
	}
	return "unready" // stopped, failed, removing: no ready instance
}

// sandboxNamed finds the sandbox the path names: 400 for a name the rule refuses, 404 for
// none.
func (a *API) sandboxNamed(r *http.Request) (*sandbox.Sandbox, error) {
	name := r.PathValue("name")
	if !nameRE.MatchString(name) {
		return nil, errdefs.InvalidArgument("invalid sandbox name %q: use lowercase letters, digits and -, at most 50", name)
	}
	sb, err := a.m.Get(r.Context(), name)
	if errdefs.IsNotFound(err) {
		return nil, errdefs.NotFound("sandbox %s not found", name)
	}
	return sb, err
}

func (a *API) create(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := a.decode(w, r, &req, true); err != nil {
		return err
	}
	if req.Name == "" {
		req.Name = generatedName()
	}
	if err := checkName(req.Name); err != nil {
		return err
	}
	spec, opts, err := a.spec(req)
	if err != nil {
		return err
	}
	sb, err := a.m.Create(r.Context(), spec, audit.OriginFrom(r.Context()).Actor, opts...)
	if err != nil {
		return err
	}
	return ok(w, fmt.Sprintf("Sandbox %s created successfully", sb.Name))
}

// spec turns a create request into a spec made from its template (the default template
// unless it names one).
func (a *API) spec(req createRequest) (sandbox.Spec, []manager.CreateOption, error) {
	var ttl time.Duration
	switch t := req.Timeout; {
	case t < 0:
		return sandbox.Spec{}, nil, errdefs.InvalidArgument("timeout must not be negative")
	case t == 0:
		ttl = defaultTimeout * time.Second
	case t == noTimeout:
	default:
		ttl = time.Duration(min(t, maxTimeout)) * time.Second
	}
	spec := sandbox.Spec{Name: req.Name, Image: req.Image, Env: req.EnvVars, TTL: ttl, Labels: req.Metadata}
	name := req.Template
	if name == "" {
		name = template.Base
	}
	if a.opts.Templates == nil {
		return spec, nil, nil
	}
	t, err := a.opts.Templates.Get(name)
	if err != nil {
		return spec, nil, err
	}
	return t.Apply(spec), t.CreateOptions(), nil
}

func (a *API) list(w http.ResponseWriter, r *http.Request) error {
	sbs, err := a.m.List(r.Context(), sandbox.ListFilter{})
	if err != nil {
		return err
	}
	out := make([]sandboxView, 0, len(sbs))
	for _, sb := range sbs {
		out = append(out, view(sb))
	}
	return ok(w, out)
}

func (a *API) get(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.sandboxNamed(r)
	if err != nil {
		return err
	}
	return ok(w, view(sb))
}

func (a *API) delete(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.sandboxNamed(r)
	if err != nil {
		return err
	}
	if err := a.m.Delete(r.Context(), sb.ID); err != nil {
		return err
	}
	return ok(w, fmt.Sprintf("Sandbox %s deleted successfully", sb.Name))
}

// pause freezes a running sandbox's processes (memory and disk kept); 409 when it is not
// running.
func (a *API) pause(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.sandboxNamed(r)
	if err != nil {
		return err
	}
	if sb.State != sandbox.StateRunning {
		return errdefs.FailedPrecondition("sandbox %s is %s, not running", sb.Name, sb.State)
	}
	if _, err := a.m.Pause(r.Context(), sb.ID); err != nil {
		return err
	}
	return ok(w, fmt.Sprintf("Sandbox %s paused successfully", sb.Name))
}

// resume thaws a paused sandbox, or cold-boots a stopped one from its disk; 409 when it is
// running.
func (a *API) resume(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.sandboxNamed(r)
	if err != nil {
		return err
	}
	switch sb.State {
	case sandbox.StatePaused:
		_, err = a.m.Resume(r.Context(), sb.ID)
	case sandbox.StateStopped, sandbox.StateFailed:
		_, err = a.m.Start(r.Context(), sb.ID)
	default:
		err = errdefs.FailedPrecondition("sandbox %s is %s, not paused", sb.Name, sb.State)
	}
	if err != nil {
		return err
	}
	return ok(w, fmt.Sprintf("Sandbox %s resumed successfully", sb.Name))
}
