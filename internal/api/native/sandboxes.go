package native

import (
	"net/http"
	"time"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// toSandbox is sb as this surface shows it; the backend is the manager's driver.
func (a *API) toSandbox(sb *sandbox.Sandbox) apitype.Sandbox {
	v := apitype.Sandbox{
		Name: sb.Name, ID: sb.ID, Status: string(sb.State), Backend: a.m.Backend(), Owner: sb.Owner,
		Image: sb.Instance.Image.Ref, Profile: sb.Instance.Security.Profile,
		VCPUs: sb.Instance.Resources.VCPUs, MemoryMB: sb.Instance.Resources.MemoryMB,
		Pids: sb.Instance.Resources.Pids, DiskMB: sb.Instance.Resources.DiskMB, Network: string(sb.Instance.Network),
		CreatedAt: sb.CreatedAt, StartedAt: sb.StartedAt, ExpiresAt: sb.ExpiresAt,
		Labels: sb.Spec.Labels, Reason: sb.Reason,
		Port: manager.AppPort(sb), PublicPorts: sb.Spec.PublicPorts, TrafficToken: sb.TrafficToken,
		Template: sb.Spec.Template, AutoResume: sb.Spec.AutoResume,
		AllowOut: sb.Instance.Egress.AllowOut, DenyOut: sb.Instance.Egress.DenyOut,
	}
	if sb.Spec.IdleTimeout > 0 {
		v.IdleTimeout = sb.Spec.IdleTimeout.String()
	}
	if sb.ExpiresAt != nil {
		v.OnExpire = sb.Spec.OnExpire
		if v.OnExpire == "" {
			v.OnExpire = sandbox.ExpireDelete
		}
	}
	return v
}

// createSpec validates and converts the body of POST /sandboxes.
func createSpec(c apitype.CreateRequest) (sandbox.Spec, error) {
	s := sandbox.Spec{Name: c.Name, Image: c.Image, Profile: c.Profile, VCPUs: c.VCPUs, MemoryMB: c.MemoryMB,
		Pids: c.Pids, DiskMB: c.DiskMB, Env: c.Env, Workdir: c.Workdir, User: c.User, Network: sandbox.NetworkMode(c.Network),
		OnExpire: c.OnExpire, AutoResume: c.AutoResume, Labels: c.Labels, PublicPorts: c.PublicPorts, Egress: egress(c.AllowOut, c.DenyOut)}
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
	if c.IdleTimeout != "" {
		d, err := time.ParseDuration(c.IdleTimeout)
		if err != nil || d <= 0 {
			return s, errdefs.InvalidArgument("idle_timeout %q: use a positive duration such as 10m", c.IdleTimeout)
		}
		s.IdleTimeout = d
	}
	return s, nil
}

func (a *API) listSandboxes(w http.ResponseWriter, r *http.Request) error {
	sbs, err := a.m.List(r.Context(), sandbox.ListFilter{})
	if err != nil {
		return err
	}
	out := make([]apitype.Sandbox, 0, len(sbs))
	for _, sb := range sbs {
		out = append(out, a.toSandbox(sb))
	}
	return ok(w, http.StatusOK, out)
}

func (a *API) createSandbox(w http.ResponseWriter, r *http.Request) error {
	var req apitype.CreateRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	if req.Name == "" {
		return errdefs.InvalidArgument("name is required")
	}
	spec, err := createSpec(req)
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
	return ok(w, http.StatusCreated, a.toSandbox(sb))
}

func (a *API) getSandbox(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.m.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, a.toSandbox(sb))
}

func (a *API) deleteSandbox(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := a.m.Delete(r.Context(), name); err != nil {
		return err
	}
	return ok(w, http.StatusOK, apitype.Deleted{Deleted: true, Name: name})
}

func (a *API) stopSandbox(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.m.Stop(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, a.toSandbox(sb))
}

func (a *API) startSandbox(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.m.Start(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, a.toSandbox(sb))
}

func (a *API) extendSandbox(w http.ResponseWriter, r *http.Request) error {
	var req apitype.ExtendRequest
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
	return ok(w, http.StatusOK, a.toSandbox(sb))
}
