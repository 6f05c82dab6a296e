package e2b

import (
	"context"
	"net/http"
	"time"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// timeoutBody is the body of /timeout, /connect, /resume and /refreshes.
type timeoutBody struct {
	Timeout  *int32 `json:"timeout"`
	Duration *int32 `json:"duration"`
	Memory   *bool  `json:"memory"`
	// AutoPause is accepted for old SDKs' /resume; pausing on timeout is not implemented.
	AutoPause *bool `json:"autoPause"`
}

func (a *API) body(w http.ResponseWriter, r *http.Request) (timeoutBody, error) {
	var b timeoutBody
	err := httpx.Decode(w, r, &b, a.maxBody, false, true)
	return b, err
}

func seconds(v *int32, def int32) (time.Duration, error) {
	s := def
	if v != nil {
		s = *v
	}
	if s <= 0 {
		return 0, errdefs.InvalidArgument("Timeout must be greater than 0")
	}
	return time.Duration(s) * time.Second, nil
}

// setTimeout overwrites the deadline: now + timeout.
func (a *API) setTimeout(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.e2bSandbox(r)
	if err != nil {
		return err
	}
	b, err := a.body(w, r)
	if err != nil {
		return err
	}
	d, err := seconds(b.Timeout, 0)
	if err != nil {
		return err
	}
	if _, err := a.m.SetExpiry(r.Context(), sb.ID, time.Now().Add(d)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// extendTo moves the deadline to now+d unless it is already later ("only extends").
func (a *API) extendTo(ctx context.Context, sb *sandbox.Sandbox, d time.Duration) (*sandbox.Sandbox, error) {
	at := time.Now().Add(d)
	if sb.ExpiresAt != nil && sb.ExpiresAt.After(at) {
		return sb, nil
	}
	return a.m.SetExpiry(ctx, sb.ID, at)
}

// wake brings a paused, stopped or failed sandbox back with a deadline at least d from now,
// and reports whether it had to. A paused sandbox does not time out (the reaper skips it), so the
// deadline is moved before the sandbox runs again: one that passed while it was paused must
// not kill it the moment it is resumed.
func (a *API) wake(ctx context.Context, sb *sandbox.Sandbox, d time.Duration) (*sandbox.Sandbox, bool, error) {
	var err error
	switch sb.State {
	case sandbox.StateRunning:
		sb, err = a.extendTo(ctx, sb, d)
		return sb, false, err
	case sandbox.StatePaused, sandbox.StateStopped, sandbox.StateFailed:
	default:
		return nil, false, errdefs.FailedPrecondition("sandbox %s is %s", sb.ID, sb.State)
	}
	if sb, err = a.extendTo(ctx, sb, d); err != nil {
		return nil, false, err
	}
	if sb.State == sandbox.StatePaused {
		sb, err = a.m.Resume(ctx, sb.ID)
	} else {
		sb, err = a.m.Start(ctx, sb.ID)
	}
	return sb, err == nil, err
}

func (a *API) connect(w http.ResponseWriter, r *http.Request, defaultTimeout int32) error {
	sb, err := a.e2bSandbox(r)
	if err != nil {
		return err
	}
	b, err := a.body(w, r)
	if err != nil {
		return err
	}
	d, err := seconds(b.Timeout, defaultTimeout)
	if err != nil {
		return err
	}
	sb, resumed, err := a.wake(r.Context(), sb, d)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if resumed {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, created(sb))
	return nil
}

func (a *API) connectV1(w http.ResponseWriter, r *http.Request) error { return a.connect(w, r, 300) }
func (a *API) connectV2(w http.ResponseWriter, r *http.Request) error { return a.connect(w, r, 300) }

func (a *API) pause(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.e2bSandbox(r)
	if err != nil {
		return err
	}
	if sb.State != sandbox.StateRunning {
		return errdefs.New(errdefs.ErrFailedPrecondition, "sandbox %s is already paused", sb.ID)
	}
	if _, err := a.m.Pause(r.Context(), sb.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) resume(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.e2bSandbox(r)
	if err != nil {
		return err
	}
	if sb.State == sandbox.StateRunning {
		return errdefs.FailedPrecondition("sandbox %s is already running", sb.ID)
	}
	b, err := a.body(w, r)
	if err != nil {
		return err
	}
	d, err := seconds(b.Timeout, 300)
	if err != nil {
		return err
	}
	if sb, _, err = a.wake(r.Context(), sb, d); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, created(sb))
	return nil
}

// refresh keeps a sandbox alive for duration seconds more (at least 15, like E2B).
func (a *API) refresh(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.e2bSandbox(r)
	if err != nil {
		return err
	}
	b, err := a.body(w, r)
	if err != nil {
		return err
	}
	d, err := seconds(b.Duration, 60)
	if err != nil {
		return err
	}
	if _, err := a.extendTo(r.Context(), sb, max(d, 15*time.Second)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// metricView is SandboxMetric; the Python SDK requires every field.
type metricView struct {
	Timestamp     time.Time `json:"timestamp"`
	TimestampUnix int64     `json:"timestampUnix"`
	CPUCount      int       `json:"cpuCount"`
	CPUUsedPct    float64   `json:"cpuUsedPct"`
	MemUsed       uint64    `json:"memUsed"`
	MemTotal      uint64    `json:"memTotal"`
	MemCache      uint64    `json:"memCache"`
	DiskUsed      uint64    `json:"diskUsed"`
	DiskTotal     uint64    `json:"diskTotal"`
}

// metrics reads the sandbox's cgroup (through its guest, which also knows its disk).
func (a *API) metrics(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.e2bSandbox(r)
	if err != nil {
		return err
	}
	if sb.State != sandbox.StateRunning {
		httpx.WriteJSON(w, http.StatusOK, []metricView{})
		return nil
	}
	m, err := a.m.GuestClient(sb).Metrics(r.Context())
	if err != nil {
		return err
	}
	now := time.Unix(m.TS, 0).UTC()
	httpx.WriteJSON(w, http.StatusOK, []metricView{{Timestamp: now, TimestampUnix: m.TS, CPUCount: m.CPUCount,
		CPUUsedPct: m.CPUUsedPct, MemUsed: m.MemUsed, MemTotal: m.MemTotal, MemCache: m.MemCache,
		DiskUsed: m.DiskUsed, DiskTotal: m.DiskTotal}})
	return nil
}
