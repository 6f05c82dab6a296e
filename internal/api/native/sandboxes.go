package native

import (
	"net/http"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// sandboxView is a sandbox as this surface shows it. Unknown fields are omitted.
type sandboxView struct {
	Name     string  `json:"name"`
	ID       string  `json:"id"`
	Status   string  `json:"status"`
	Backend  string  `json:"backend"`
	Image    string  `json:"image,omitempty"`
	Profile  string  `json:"profile,omitempty"`
	VCPUs    float64 `json:"vcpus,omitempty"`
	MemoryMB int64   `json:"memory_mb,omitempty"`
	Pids     int64   `json:"pids,omitempty"`
	DiskMB   int64   `json:"disk_mb,omitempty"`
	Network  string  `json:"network,omitempty"`
	egressFields
	CreatedAt time.Time         `json:"created_at"`
	StartedAt *time.Time        `json:"started_at,omitempty"`
	ExpiresAt *time.Time        `json:"expires_at,omitempty"`
	OnExpire  string            `json:"on_expire,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	Reason    string            `json:"reason,omitempty"`
	// Port is the application port (routes that name none); PublicPorts need no credential
	// (0 = every port); TrafficToken opens the other ports without the API key.
	Port         int    `json:"port,omitempty"`
	PublicPorts  []int  `json:"public_ports,omitempty"`
	TrafficToken string `json:"traffic_token,omitempty"`
	// Template is the template the sandbox was made from.
	Template string `json:"template,omitempty"`
}

// view is sb as this surface shows it; the backend is the manager's driver.
func (a *API) view(sb *sandbox.Sandbox) sandboxView {
	v := sandboxView{
		Name: sb.Name, ID: sb.ID, Status: string(sb.State), Backend: a.m.Backend(),
		Image: sb.Instance.Image.Ref, Profile: sb.Instance.Security.Profile,
		VCPUs: sb.Instance.Resources.VCPUs, MemoryMB: sb.Instance.Resources.MemoryMB,
		Pids: sb.Instance.Resources.Pids, DiskMB: sb.Instance.Resources.DiskMB, Network: string(sb.Instance.Network),
		CreatedAt: sb.CreatedAt, StartedAt: sb.StartedAt, ExpiresAt: sb.ExpiresAt,
		Labels: sb.Spec.Labels, Reason: sb.Reason,
		Port: manager.AppPort(sb), PublicPorts: sb.Spec.PublicPorts, TrafficToken: sb.TrafficToken,
		Template:     sb.Spec.Template,
		egressFields: egressFields{AllowOut: sb.Instance.Egress.AllowOut, DenyOut: sb.Instance.Egress.DenyOut},
	}
	if sb.ExpiresAt != nil {
		v.OnExpire = sb.Spec.OnExpire
		if v.OnExpire == "" {
			v.OnExpire = sandbox.ExpireDelete
		}
	}
	return v
}

// createRequest is POST /sandboxes.
type createRequest struct {
	Name     string            `json:"name"`
	Image    string            `json:"image"`
	Profile  string            `json:"profile"`
	VCPUs    float64           `json:"vcpus"`
	MemoryMB int64             `json:"memory_mb"`
	Pids     int64             `json:"pids"`
	DiskMB   int64             `json:"disk_mb"` // the writable layer's size (with a read-only root, /tmp's)
	Env      map[string]string `json:"env"`
	Workdir  string            `json:"workdir"`
	User     string            `json:"user"`
	// Network is "none" (loopback only) or "egress" (the profile's default when empty);
	// allow_out and deny_out are the egress policy.
	Network string `json:"network"`
	egressFields
	TTL      string            `json:"ttl"` // Go duration: "30m", "2h"
	OnExpire string            `json:"on_expire"`
	Labels   map[string]string `json:"labels"`
	// Port is where /sandbox/{name}/ goes (default 8080); PublicPorts are reachable through
	// the server without credentials.
	Port        *int  `json:"port"`
	PublicPorts []int `json:"public_ports"`
	// Template supplies defaults: image, profile, env (the request's win), limits, port and
	// a start command.
	Template string `json:"template"`
}

func (c createRequest) spec() (sandbox.Spec, error) {
	s := sandbox.Spec{Name: c.Name, Image: c.Image, Profile: c.Profile, VCPUs: c.VCPUs, MemoryMB: c.MemoryMB,
		Pids: c.Pids, DiskMB: c.DiskMB, Env: c.Env, Workdir: c.Workdir, User: c.User, Network: sandbox.NetworkMode(c.Network),
		OnExpire: c.OnExpire, Labels: c.Labels, PublicPorts: c.PublicPorts, Egress: c.policy()}
	if c.Port != nil { // given, 0 included, it must be a port
		if err := manager.ValidPort(*c.Port); err != nil {
			return s, err
		}
		s.Port = *c.Port
	}
	if c.TTL != "" {
		d, err := time.ParseDuration(c.TTL)
		if err != nil || d <= 0 {
			return s, errdefs.InvalidArgument("ttl %q: use a positive duration such as 30m or 2h", c.TTL)
		}
		s.TTL = d
	}
	return s, nil
}

func (a *API) listSandboxes(w http.ResponseWriter, r *http.Request) error {
	sbs, err := a.m.List(r.Context(), sandbox.ListFilter{})
	if err != nil {
		return err
	}
	out := make([]sandboxView, 0, len(sbs))
	for _, sb := range sbs {
		out = append(out, a.view(sb))
	}
	return ok(w, http.StatusOK, out)
}

func (a *API) createSandbox(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	if req.Name == "" {
		return errdefs.InvalidArgument("name is required")
	}
	spec, err := req.spec()
	if err != nil {
		return err
	}
	spec, opts, err := a.templated(req.Template, spec)
	if err != nil {
		return err
	}
	sb, err := a.m.Create(r.Context(), spec, owner(r), opts...)
	if err != nil {
		return err
	}
	return ok(w, http.StatusCreated, a.view(sb))
}

func (a *API) getSandbox(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.m.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, a.view(sb))
}

func (a *API) deleteSandbox(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := a.m.Delete(r.Context(), name); err != nil {
		return err
	}
	return ok(w, http.StatusOK, map[string]any{"name": name, "deleted": true})
}

func (a *API) stopSandbox(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.m.Stop(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, a.view(sb))
}

func (a *API) startSandbox(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.m.Start(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, a.view(sb))
}

func (a *API) extendSandbox(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		By string `json:"by"`
	}
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	d, err := time.ParseDuration(req.By)
	if err != nil {
		return errdefs.InvalidArgument("by %q: use a duration such as 30m or 1h", req.By)
	}
	sb, err := a.m.Extend(r.Context(), r.PathValue("name"), d)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, a.view(sb))
}
