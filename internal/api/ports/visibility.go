package ports

import (
	"net/http"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/manager"
)

func (a *API) makePublic(w http.ResponseWriter, r *http.Request) error {
	return a.setVisibility(w, r, true)
}

func (a *API) makePrivate(w http.ResponseWriter, r *http.Request) error {
	return a.setVisibility(w, r, false)
}

// setVisibility is PUT|DELETE /sandboxes/{name}/public-ports/{port}; port 0 means every port.
func (a *API) setVisibility(w http.ResponseWriter, r *http.Request, public bool) error {
	port, err := parsePort(r.PathValue("port"))
	if r.PathValue("port") == "0" {
		port, err = manager.AllPorts, nil
	}
	if err != nil {
		return err
	}
	sb, err := a.m.SetPortPublic(r.Context(), r.PathValue("name"), port, public)
	if err != nil {
		return err
	}
	if sb.Spec.PublicPorts == nil {
		sb.Spec.PublicPorts = []int{}
	}
	httpx.WriteJSON(w, http.StatusOK, apitype.Envelope[any]{Success: true, Data: apitype.PortVisibility{Sandbox: sb.Name, Port: port,
		Public: manager.PortPublic(sb, port), PublicPorts: sb.Spec.PublicPorts}})
	return nil
}
