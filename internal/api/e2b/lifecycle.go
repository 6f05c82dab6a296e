package e2b

import (
	"net/http"
	"strconv"
	"time"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// The bodies of the lifecycle routes, decoded strictly: each carries only what the SDKs send.
type (
	// timeoutBody is POST /sandboxes/{id}/timeout.
	timeoutBody struct {
		Timeout *int32 `json:"timeout"`
	}
	// connectBody is POST /sandboxes/{id}/connect (v1 and v2).
	connectBody struct {
		Timeout *int32 `json:"timeout"`
		// Memory false resumes a paused sandbox from its disk only (a cold boot).
		Memory *bool `json:"memory"`
	}
	// resumeBody is POST /sandboxes/{id}/resume (the SDKs' connect before 2.6).
	resumeBody struct {
		Timeout   *int32 `json:"timeout"`
		Memory    *bool  `json:"memory"`
		AutoPause *bool  `json:"autoPause"`
	}
	// pauseBody is POST /sandboxes/{id}/pause.
	pauseBody struct {
		// Memory false drops the processes and keeps the disk (keepMemory: false).
		Memory *bool `json:"memory"`
	}
	// refreshBody is POST /sandboxes/{id}/refreshes.
	refreshBody struct {
		Duration *int32 `json:"duration"`
	}
)

func (a *API) body(w http.ResponseWriter, r *http.Request, v any) error {
	return httpx.Decode(w, r, v, a.maxBody, true, true)
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
	var b timeoutBody
	if err := a.body(w, r, &b); err != nil {
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

// connect answers 201 with the sandbox, as Agent-Sandbox does (E2B answers 200 when the
// sandbox was running; the SDKs accept both).
func (a *API) connect(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.e2bSandbox(r)
	if err != nil {
		return err
	}
	var b connectBody
	if err := a.body(w, r, &b); err != nil {
		return err
	}
	d, err := seconds(b.Timeout, 300)
	if err != nil {
		return err
	}
	if sb, err = a.m.Wake(r.Context(), sb.ID, d, b.Memory == nil || *b.Memory); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, created(sb))
	return nil
}

// pause freezes the sandbox's processes (204), or with memory false (the SDKs' keepMemory:
// false) stops them and keeps the disk: connect then cold-boots it. Either way it no longer
// times out until it is resumed. 409 when it is not running.
func (a *API) pause(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.e2bSandbox(r)
	if err != nil {
		return err
	}
	var b pauseBody
	if err := a.body(w, r, &b); err != nil {
		return err
	}
	if sb.State != sandbox.StateRunning {
		return errdefs.New(errdefs.ErrFailedPrecondition, "sandbox %s is already paused", sb.ID)
	}
	if b.Memory == nil || *b.Memory {
		_, err = a.m.Pause(r.Context(), sb.ID)
	} else if _, err = a.m.Stop(r.Context(), sb.ID); err == nil {
		// A stopped sandbox would be reaped at its deadline; a paused one must not be.
		_, err = a.m.SetExpiry(r.Context(), sb.ID, time.Time{})
	}
	if err != nil {
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
	var b resumeBody
	if err := a.body(w, r, &b); err != nil {
		return err
	}
	// What happens at the timeout is fixed at create: autoPause here can only repeat it (the
	// SDKs before 2.6 send false by default, which leaves an autoPause sandbox as it is).
	if b.AutoPause != nil && *b.AutoPause && sb.Spec.OnExpire != sandbox.ExpirePause {
		return errdefs.InvalidArgument("autoPause on resume is only accepted for a sandbox created with autoPause")
	}
	if sb.State == sandbox.StateRunning {
		return errdefs.FailedPrecondition("sandbox %s is already running", sb.ID)
	}
	d, err := seconds(b.Timeout, 300)
	if err != nil {
		return err
	}
	if sb, err = a.m.Wake(r.Context(), sb.ID, d, b.Memory == nil || *b.Memory); err != nil {
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
	var b refreshBody
	if err := a.body(w, r, &b); err != nil {
		return err
	}
	d, err := seconds(b.Duration, 60)
	if err != nil {
		return err
	}
	if _, err := a.m.KeepUntil(r.Context(), sb.ID, time.Now().Add(max(d, 15*time.Second))); err != nil {
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

// metrics answers the guest's samples between start and end (unix seconds; by default
// everything the guest kept up to now). A sandbox that is not running has none.
func (a *API) metrics(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.e2bSandbox(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	now := time.Now().Unix()
	start, err := unixParam(q.Get("start"), 0)
	if err != nil {
		return err
	}
	end, err := unixParam(q.Get("end"), now)
	if err != nil {
		return err
	}
	if start > end {
		return errdefs.InvalidArgument("start (%d) is after end (%d)", start, end)
	}
	out := []metricView{}
	if sb.State != sandbox.StateRunning {
		httpx.WriteJSON(w, http.StatusOK, out)
		return nil
	}
	ms, err := a.m.Metrics(r.Context(), sb.ID, start, end)
	if err != nil {
		return err
	}
	for _, m := range ms {
		out = append(out, metricView{Timestamp: time.Unix(m.TS, 0).UTC(), TimestampUnix: m.TS, CPUCount: m.CPUCount,
			CPUUsedPct: m.CPUUsedPct, MemUsed: m.MemUsed, MemTotal: m.MemTotal, MemCache: m.MemCache,
			DiskUsed: m.DiskUsed, DiskTotal: m.DiskTotal})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func unixParam(v string, def int64) (int64, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errdefs.InvalidArgument("%q is not a time in unix seconds", v)
	}
	return n, nil
}
