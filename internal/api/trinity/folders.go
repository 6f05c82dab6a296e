package trinity

import (
	"context"
	"net/http"

	"github.com/paddock/paddock/internal/fleet"
)

type consumedFolder struct {
	SourceAgent      string `json:"source_agent"`
	MountPath        string `json:"mount_path"`
	AccessMode       string `json:"access_mode"`
	CurrentlyMounted bool   `json:"currently_mounted"`
}

type foldersResponse struct {
	Status          string           `json:"status"`
	AgentName       string           `json:"agent_name"`
	ExposeEnabled   bool             `json:"expose_enabled"`
	ConsumeEnabled  bool             `json:"consume_enabled"`
	ExposedVolume   *string          `json:"exposed_volume"`
	ExposedPath     string           `json:"exposed_path"`
	ConsumedFolders []consumedFolder `json:"consumed_folders"`
	RestartRequired bool             `json:"restart_required"`
	Message         string           `json:"message,omitempty"`
}

func (a *API) mountPath(p *fleet.Agent) string { return a.svc.WorkspaceDir() + "/shared-in/" + p.Name }

func (a *API) folders(ctx context.Context, ag *fleet.Agent) (foldersResponse, error) {
	mounted := a.svc.Mounted(ctx, ag)
	v := foldersResponse{Status: a.svc.Status(ctx, ag), AgentName: ag.Name, ExposeEnabled: ag.Folders.Expose,
		ConsumeEnabled: ag.Folders.Consume, ExposedPath: a.svc.WorkspaceDir() + "/shared-out", ConsumedFolders: []consumedFolder{}}
	if ag.Folders.Expose {
		vol := ag.SharedVolume()
		v.ExposedVolume = &vol
	}
	v.RestartRequired = ag.Folders.Expose != mounted[v.ExposedPath]
	if ag.Folders.Consume {
		_, ps, err := a.svc.Available(ctx, ag.ID)
		if err != nil {
			return v, err
		}
		for _, p := range ps {
			c := consumedFolder{SourceAgent: p.Name, MountPath: a.mountPath(p), AccessMode: "ro", CurrentlyMounted: mounted[a.mountPath(p)]}
			v.RestartRequired = v.RestartRequired || !c.CurrentlyMounted
			v.ConsumedFolders = append(v.ConsumedFolders, c)
		}
	}
	return v, nil
}

func (a *API) getFolders(w http.ResponseWriter, r *http.Request) error {
	ag, _, err := a.svc.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	v, err := a.folders(r.Context(), ag)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, v)
}

func (a *API) setFolders(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Expose  *bool `json:"expose_enabled"`
		Consume *bool `json:"consume_enabled"`
	}
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	ag, err := a.svc.SetFolders(r.Context(), r.PathValue("name"), req.Expose, req.Consume)
	if err != nil {
		return err
	}
	v, err := a.folders(r.Context(), ag)
	if err != nil {
		return err
	}
	v.Status, v.RestartRequired = "updated", true
	v.Message = "Configuration updated. Restart the agent to apply changes."
	return ok(w, http.StatusOK, v)
}

type availableFolder struct {
	SourceAgent  string `json:"source_agent"`
	VolumeName   string `json:"volume_name"`
	MountPath    string `json:"mount_path"`
	SourceStatus string `json:"source_status"`
}

func (a *API) available(w http.ResponseWriter, r *http.Request) error {
	ag, ps, err := a.svc.Available(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	out := []availableFolder{}
	for _, p := range ps {
		out = append(out, availableFolder{p.Name, p.SharedVolume(), a.mountPath(p), a.svc.Status(r.Context(), p)})
	}
	return ok(w, http.StatusOK, map[string]any{"agent_name": ag.Name, "available_folders": out, "count": len(out)})
}

type consumer struct {
	AgentName string `json:"agent_name"`
	MountPath string `json:"mount_path"`
	Status    string `json:"status"`
}

func (a *API) consumers(w http.ResponseWriter, r *http.Request) error {
	ag, cs, err := a.svc.Consumers(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	out := []consumer{}
	for _, c := range cs {
		out = append(out, consumer{c.Name, a.mountPath(ag), a.svc.Status(r.Context(), c)})
	}
	return ok(w, http.StatusOK, map[string]any{"source_agent": ag.Name, "consumers": out, "count": len(out)})
}
