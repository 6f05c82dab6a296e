package e2b

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// Labels that carry E2B facts on a sandbox.
const (
	labelTemplate = "e2b.template"
	metaPrefix    = "e2b.meta."
)

// newSandbox is NewSandbox (v1) and NewSandboxV2.
type newSandbox struct {
	TemplateID          string            `json:"templateID"`
	Timeout             *int32            `json:"timeout"`
	Metadata            map[string]string `json:"metadata"`
	EnvVars             map[string]string `json:"envVars"`
	Secure              *bool             `json:"secure"`
	AllowInternetAccess *bool             `json:"allow_internet_access"`
	AutoPause           bool              `json:"autoPause"`
	AutoPauseMemory     *bool             `json:"autoPauseMemory"`
	AutoResume          any               `json:"autoResume"`
	Network             any               `json:"network"`
	MCP                 any               `json:"mcp"`
	IAM                 any               `json:"iam"`
	VolumeMounts        []any             `json:"volumeMounts"`
}

// sandboxView is E2B's Sandbox (create/connect answer).
type sandboxView struct {
	TemplateID         string  `json:"templateID"`
	SandboxID          string  `json:"sandboxID"`
	ClientID           string  `json:"clientID"`
	Alias              string  `json:"alias,omitempty"`
	EnvdVersion        string  `json:"envdVersion"`
	EnvdAccessToken    string  `json:"envdAccessToken"`
	TrafficAccessToken *string `json:"trafficAccessToken"`
	Domain             *string `json:"domain"`
}

// detailView is SandboxDetail and ListedSandbox.
type detailView struct {
	TemplateID          string            `json:"templateID"`
	SandboxID           string            `json:"sandboxID"`
	ClientID            string            `json:"clientID"`
	Alias               string            `json:"alias,omitempty"`
	StartedAt           time.Time         `json:"startedAt"`
	EndAt               time.Time         `json:"endAt"`
	EnvdVersion         string            `json:"envdVersion"`
	EnvdAccessToken     string            `json:"envdAccessToken,omitempty"`
	Domain              *string           `json:"domain"`
	CPUCount            int               `json:"cpuCount"`
	MemoryMB            int64             `json:"memoryMB"`
	DiskSizeMB          int64             `json:"diskSizeMB"`
	State               string            `json:"state"`
	Metadata            map[string]string `json:"metadata"`
	AllowInternetAccess *bool             `json:"allowInternetAccess,omitempty"`
	Network             *networkConfig    `json:"network,omitempty"`
}

func (a *API) create(w http.ResponseWriter, r *http.Request, defaultTimeout int32) error {
	var req newSandbox
	if err := httpx.Decode(w, r, &req, a.maxBody, false, true); err != nil {
		return err
	}
	if req.TemplateID == "" {
		req.TemplateID = "base"
	}
	tmpl, err := a.resolveTemplate(req.TemplateID)
	if err != nil {
		return err
	}
	timeout := defaultTimeout
	if req.Timeout != nil {
		timeout = *req.Timeout
	}
	if timeout <= 0 {
		return errdefs.InvalidArgument("Timeout must be greater than 0")
	}
	if err := checkSupported(req); err != nil {
		return err
	}
	labels := map[string]string{labelTemplate: req.TemplateID}
	for k, v := range req.Metadata {
		labels[metaPrefix+k] = v
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	spec := tmpl.Apply(sandbox.Spec{Name: "e2b-" + hex.EncodeToString(b), Env: req.EnvVars,
		TTL: time.Duration(timeout) * time.Second, Labels: labels})
	if spec.DefaultUser == "" {
		spec.DefaultUser = "user" // E2B's default user, unless the template names one
	}
	public, err := publicPorts(req)
	if err != nil {
		return err
	}
	spec.PublicPorts = public
	network, err := parseNetwork(req.Network)
	if err != nil {
		return err
	}
	if spec.Egress, err = network.policy(req.AllowInternetAccess); err != nil {
		return err
	}
	sb, err := a.m.Create(r.Context(), spec, audit.OriginFrom(r.Context()).Actor, tmpl.CreateOptions()...)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, created(sb))
	return nil
}

func (a *API) createV1(w http.ResponseWriter, r *http.Request) error { return a.create(w, r, 15) }
func (a *API) createV2(w http.ResponseWriter, r *http.Request) error { return a.create(w, r, 300) }

func created(sb *sandbox.Sandbox) sandboxView {
	v := sandboxView{TemplateID: sb.Spec.Labels[labelTemplate], SandboxID: sb.ID, ClientID: clientID,
		EnvdVersion: guest.Version, EnvdAccessToken: sb.GuestToken}
	if !manager.PortPublic(sb, manager.AllPorts) && sb.TrafficToken != "" {
		v.TrafficAccessToken = &sb.TrafficToken
	}
	return v
}

func detail(sb *sandbox.Sandbox, withToken bool) detailView {
	d := detailView{TemplateID: sb.Spec.Labels[labelTemplate], SandboxID: sb.ID, ClientID: clientID,
		EnvdVersion: guest.Version, CPUCount: max(1, int(sb.Instance.Resources.VCPUs+0.999)),
		MemoryMB: sb.Instance.Resources.MemoryMB, State: state(sb), Metadata: metadata(sb), StartedAt: sb.CreatedAt}
	if sb.StartedAt != nil {
		d.StartedAt = *sb.StartedAt
	}
	if sb.ExpiresAt != nil {
		d.EndAt = *sb.ExpiresAt
	}
	if withToken {
		d.EnvdAccessToken = sb.GuestToken
	}
	d.AllowInternetAccess, d.Network = networkView(sb)
	return d
}

// state maps Paddock states onto E2B's two: a stopped or failed sandbox is resumed by
// connect too (a failed one starts afresh from its disk).
func state(sb *sandbox.Sandbox) string {
	if sb.State == sandbox.StateRunning {
		return "running"
	}
	return "paused"
}

func metadata(sb *sandbox.Sandbox) map[string]string {
	out := map[string]string{}
	for k, v := range sb.Spec.Labels {
		if m, ok := strings.CutPrefix(k, metaPrefix); ok {
			out[m] = v
		}
	}
	return out
}

// e2bSandbox finds a sandbox that the E2B surface made.
func (a *API) e2bSandbox(r *http.Request) (*sandbox.Sandbox, error) {
	sb, err := a.m.Get(r.Context(), r.PathValue("id"))
	if err != nil || sb.Spec.Labels[labelTemplate] == "" {
		return nil, errdefs.NotFound("sandbox %q not found", r.PathValue("id"))
	}
	return sb, nil
}

func (a *API) detail(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.e2bSandbox(r)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, detail(sb, true))
	return nil
}

func (a *API) kill(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.e2bSandbox(r)
	if err != nil {
		return err
	}
	if err := a.m.Delete(r.Context(), sb.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
