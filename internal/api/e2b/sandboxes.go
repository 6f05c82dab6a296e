package e2b

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// Labels that carry E2B facts on a sandbox.
const (
	labelTemplate = manager.LabelTemplate
	metaPrefix    = "e2b.meta."
	// metaIdleTimeout is Agent-Sandbox's metadata key for the seconds idle before a pause.
	metaIdleTimeout = "idleTimeout"
)

// newSandbox is NewSandbox (v1) and NewSandboxV2: every field the official SDKs and
// Agent-Sandbox send. It is decoded strictly, so an unknown field is refused by name, and
// checkSupported refuses the known ones Paddock cannot honour.
type newSandbox struct {
	TemplateID          string            `json:"templateID"`
	Timeout             *int32            `json:"timeout"`
	Metadata            map[string]string `json:"metadata"`
	EnvVars             map[string]string `json:"envVars"`
	Secure              *bool             `json:"secure"`
	AllowInternetAccess *bool             `json:"allow_internet_access"`
	// AllowInternetAccessCamel is Agent-Sandbox's spelling of allow_internet_access.
	AllowInternetAccessCamel *bool `json:"allowInternetAccess"`
	// AutoPause pauses the sandbox at its timeout instead of killing it; AutoPauseMemory
	// false (the SDKs' onTimeout {action: pause, keepMemory: false}) stops it, keeping only
	// its disk.
	AutoPause       *bool          `json:"autoPause"`
	AutoPauseMemory *bool          `json:"autoPauseMemory"`
	AutoResume      *autoResume    `json:"autoResume"`
	Network         *networkConfig `json:"network"`
	MCP             any            `json:"mcp"`
	IAM             any            `json:"iam"`
	VolumeMounts    []any          `json:"volumeMounts"`
}

// autoResume is SandboxAutoResumeConfig.
type autoResume struct {
	Enabled bool `json:"enabled"`
}

// internetAccess reads the two spellings of allow_internet_access; nil when neither is set.
func internetAccess(snake, camel *bool) (*bool, error) {
	if snake != nil && camel != nil && *snake != *camel {
		return nil, errdefs.InvalidArgument("allow_internet_access and allowInternetAccess disagree: give one")
	}
	if snake != nil {
		return snake, nil
	}
	return camel, nil
}

// sandboxView is SandboxDetail (GET /sandboxes/{id}) and ListedSandbox, and with
// trafficAccessToken (createdView) what create, connect and resume answer: Agent-Sandbox's
// Sandbox object, which carries E2B's Sandbox fields and the detail's.
type sandboxView struct {
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
	Network             *networkView      `json:"network,omitempty"`
	Lifecycle           lifecycleView     `json:"lifecycle"`
}

// lifecycleView is SandboxDetail's lifecycle: what happens at the timeout, and whether
// traffic resumes a paused sandbox.
type lifecycleView struct {
	AutoResume bool   `json:"autoResume"`
	OnTimeout  string `json:"onTimeout"` // "kill" or "pause"
}

func lifecycleOf(sb *sandbox.Sandbox) lifecycleView {
	v := lifecycleView{AutoResume: sb.Spec.AutoResume, OnTimeout: "kill"}
	if sb.Spec.OnExpire == sandbox.ExpirePause || sb.Spec.OnExpire == sandbox.ExpireStop {
		v.OnTimeout = "pause"
	}
	return v
}

// applyLifecycle sets what happens at the timeout and when idle: autoPause (with or without
// memory), autoResume, and Agent-Sandbox's metadata.idleTimeout (seconds).
func applyLifecycle(spec *sandbox.Spec, req newSandbox) error {
	pause := req.AutoPause != nil && *req.AutoPause
	keepMemory := req.AutoPauseMemory == nil || *req.AutoPauseMemory
	spec.AutoResume = req.AutoResume != nil && req.AutoResume.Enabled
	switch {
	case req.AutoPauseMemory != nil && !pause:
		return errdefs.InvalidArgument("autoPauseMemory only applies with autoPause")
	case pause && keepMemory:
		spec.OnExpire = sandbox.ExpirePause
	case pause:
		spec.OnExpire = sandbox.ExpireStop // resumed from its disk by connect
	}
	if pause && !keepMemory && spec.AutoResume {
		return errdefs.InvalidArgument("autoResume needs autoPauseMemory: a sandbox paused without its memory is resumed with connect")
	}
	if v, ok := req.Metadata[metaIdleTimeout]; ok {
		secs, err := strconv.Atoi(v)
		if err != nil || secs < 0 {
			return errdefs.InvalidArgument("metadata.idleTimeout %q: give whole seconds (0: never)", v)
		}
		spec.IdleTimeout = time.Duration(secs) * time.Second
	}
	if spec.AutoResume && spec.OnExpire != sandbox.ExpirePause && spec.IdleTimeout == 0 {
		return errdefs.InvalidArgument("autoResume needs autoPause (or metadata.idleTimeout): otherwise the sandbox never pauses")
	}
	return nil
}

// createdView is the answer of create, connect and resume.
type createdView struct {
	sandboxView
	TrafficAccessToken *string `json:"trafficAccessToken"`
}

func (a *API) create(w http.ResponseWriter, r *http.Request, defaultTimeout int32) error {
	var req newSandbox
	if err := httpx.Decode(w, r, &req, a.maxBody, true, true); err != nil {
		return err
	}
	if err := checkSupported(req); err != nil {
		return err
	}
	internet, err := internetAccess(req.AllowInternetAccess, req.AllowInternetAccessCamel)
	if err != nil {
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
	labels := map[string]string{labelTemplate: req.TemplateID}
	for k, v := range req.Metadata {
		labels[metaPrefix+k] = v
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	spec := tmpl.Apply(sandbox.Spec{Name: "e2b-" + hex.EncodeToString(b), Env: req.EnvVars,
		TTL: time.Duration(timeout) * time.Second, Labels: labels})
	if err := applyLifecycle(&spec, req); err != nil {
		return err
	}
	if spec.DefaultUser == "" {
		spec.DefaultUser = "user" // E2B's default user, unless the template names one
	}
	if spec.PublicPorts, err = publicPorts(req); err != nil {
		return err
	}
	network := req.Network
	if network == nil {
		network = &networkConfig{}
	}
	if spec.Egress, err = network.policy(internet); err != nil {
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

// created is the answer of create, connect and resume: the detail with the envd access
// token, and the traffic access token when the sandbox's ports are private.
func created(sb *sandbox.Sandbox) createdView {
	v := createdView{sandboxView: detail(sb, true)}
	if !manager.PortPublic(sb, manager.AllPorts) && sb.TrafficToken != "" {
		v.TrafficAccessToken = &sb.TrafficToken
	}
	return v
}

// detail is SandboxDetail, and without the access token ListedSandbox.
func detail(sb *sandbox.Sandbox, withToken bool) sandboxView {
	res := sb.Instance.Resources
	d := sandboxView{TemplateID: templateOf(sb), SandboxID: sb.ID, ClientID: clientID,
		EnvdVersion: guestproto.Version, CPUCount: max(1, int(res.VCPUs+0.999)), MemoryMB: res.MemoryMB,
		DiskSizeMB: res.DiskMB, State: state(sb), Metadata: metadata(sb), StartedAt: sb.CreatedAt}
	if sb.StartedAt != nil {
		d.StartedAt = *sb.StartedAt
	}
	if sb.ExpiresAt != nil {
		d.EndAt = *sb.ExpiresAt
	}
	if withToken {
		d.EnvdAccessToken = sb.GuestToken
	}
	d.AllowInternetAccess, d.Network = networkOf(sb)
	d.Lifecycle = lifecycleOf(sb)
	return d
}

// state maps Paddock's states onto E2B's two, the only ones the SDKs accept (the Python
// SDK's enum raises on any other). Whatever is not running is "paused": connect brings it
// back, thawing a frozen sandbox and cold-booting a stopped one, or one whose init died
// (failed) from its disk.
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

// templateOf is a sandbox's E2B template ID: the one it was made with on this surface; for a
// sandbox made on another surface, its Paddock template, else "base".
func templateOf(sb *sandbox.Sandbox) string { return manager.TemplateID(sb) }

// e2bSandbox finds a sandbox the caller may see, whichever surface made it (every sandbox
// runs the same envd-compatible guest, so the SDKs can use any of them); another user's is
// not found.
func (a *API) e2bSandbox(r *http.Request) (*sandbox.Sandbox, error) {
	sb, err := a.m.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		if errdefs.IsNotFound(err) {
			return nil, errdefs.NotFound("sandbox %q not found", r.PathValue("id"))
		}
		return nil, err
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
