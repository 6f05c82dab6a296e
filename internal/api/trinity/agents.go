package trinity

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/fleet"
)

// AgentStatus is upstream's AgentStatus (list entries and create's answer).
type AgentStatus struct {
	Name        string          `json:"name"`
	Type        string          `json:"type"`
	Status      string          `json:"status"`
	Port        int             `json:"port"`
	Created     time.Time       `json:"created"`
	Resources   fleet.Resources `json:"resources"`
	ContainerID string          `json:"container_id"` // the sandbox's ID
	Template    *string         `json:"template"`
	Runtime     string          `json:"runtime"`
	Tags        []string        `json:"tags"`
}

// AgentDetail is GET /api/agents/{name}.
type AgentDetail struct {
	AgentStatus
	ID                      string        `json:"id"`
	Owner                   string        `json:"owner"`
	IsOwner                 bool          `json:"is_owner"`
	IsShared                bool          `json:"is_shared"`
	IsSystem                bool          `json:"is_system"`
	CanShare                bool          `json:"can_share"`
	CanDelete               bool          `json:"can_delete"`
	Shares                  []fleet.Share `json:"shares"`
	AutonomyEnabled         bool          `json:"autonomy_enabled"`
	ReadOnlyEnabled         bool          `json:"read_only_enabled"`
	RuntimeModel            *string       `json:"runtime_model"`
	ExecutionTimeoutSeconds int           `json:"execution_timeout_seconds"`
	WorkspaceVolume         string        `json:"workspace_volume"`
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (a *API) status(ctx context.Context, ag *fleet.Agent) AgentStatus {
	return AgentStatus{Name: ag.Name, Type: ag.Type, Status: a.svc.Status(ctx, ag), Port: a.SSHPort, Created: ag.CreatedAt,
		Resources: ag.Resources, ContainerID: ag.SandboxID, Template: strOrNil(ag.Template), Runtime: ag.Runtime, Tags: ag.Tags}
}

// list answers the agents the caller may see; ?tags=a,b keeps those with any of them.
func (a *API) list(w http.ResponseWriter, r *http.Request) error {
	var tags []string
	if q := r.URL.Query().Get("tags"); q != "" {
		tags = strings.Split(q, ",")
	}
	agents, err := a.svc.List(r.Context(), tags)
	if err != nil {
		return err
	}
	out := make([]AgentStatus, 0, len(agents))
	for _, ag := range agents {
		out = append(out, a.status(r.Context(), ag))
	}
	return ok(w, http.StatusOK, out)
}

func (a *API) create(w http.ResponseWriter, r *http.Request) error {
	var req fleet.CreateRequest
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	ag, _, err := a.svc.Create(r.Context(), req)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, a.status(r.Context(), ag))
}

func (a *API) get(w http.ResponseWriter, r *http.Request) error {
	ag, have, err := a.svc.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	own := have == fleet.AccessOwn
	d := AgentDetail{AgentStatus: a.status(r.Context(), ag), ID: ag.ID, Owner: a.svc.OwnerName(r.Context(), ag),
		IsOwner: fleet.IsOwner(r.Context(), ag), IsShared: have == fleet.AccessUse, CanShare: own, CanDelete: own, Shares: []fleet.Share{},
		AutonomyEnabled: ag.AutonomyEnabled, ReadOnlyEnabled: ag.ReadOnly.Enabled, RuntimeModel: strOrNil(ag.RuntimeModel),
		ExecutionTimeoutSeconds: ag.ExecutionTimeoutSeconds, WorkspaceVolume: ag.WorkspaceVolume}
	if own {
		if shs, err := a.svc.Shares(r.Context(), ag.Name); err == nil {
			d.Shares = shs
		}
	}
	return ok(w, http.StatusOK, d)
}

type message struct {
	Message string `json:"message"`
}

func (a *API) delete(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := a.svc.Delete(r.Context(), name); err != nil {
		return err
	}
	return ok(w, http.StatusOK, message{"Agent " + name + " deleted"})
}

type startResponse struct {
	Message              string `json:"message"`
	CredentialsInjection string `json:"credentials_injection"`
}

func (a *API) start(w http.ResponseWriter, r *http.Request) error {
	ag, cred, err := a.svc.Start(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, startResponse{"Agent " + ag.Name + " started", cred})
}

func (a *API) stop(w http.ResponseWriter, r *http.Request) error {
	ag, err := a.svc.Stop(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, message{"Agent " + ag.Name + " stopped"})
}

type renameRequest struct {
	NewName string `json:"new_name"`
}

type renameResponse struct {
	Message    string  `json:"message"`
	OldName    string  `json:"old_name"`
	NewName    string  `json:"new_name"`
	WasRunning bool    `json:"was_running"`
	Note       *string `json:"note"`
}

func (a *API) rename(w http.ResponseWriter, r *http.Request) error {
	var req renameRequest
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	res, err := a.svc.Rename(r.Context(), r.PathValue("name"), req.NewName)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, renameResponse{Message: "Agent renamed from '" + res.OldName + "' to '" + res.NewName + "'",
		OldName: res.OldName, NewName: res.NewName, WasRunning: res.WasRunning})
}
