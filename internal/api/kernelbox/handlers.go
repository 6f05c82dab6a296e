package kernelbox

import (
	"net/http"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/session"
)

type createRequest struct {
	Name     string            `json:"name"`
	Language string            `json:"language"`
	Sandbox  string            `json:"sandbox"` // run in this existing sandbox instead of a new one
	Tags     map[string]string `json:"tags"`
}

// kernelView is GET /kernels/{id}.
type kernelView struct {
	Alive  bool            `json:"alive"`
	Kernel *session.Kernel `json:"kernel"`
}

func (a *API) decode(w http.ResponseWriter, r *http.Request, v any) error {
	return httpx.Decode(w, r, v, a.maxBody, true, false)
}

func (a *API) sessionExecute(w http.ResponseWriter, r *http.Request) error {
	var req executeRequest
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	timeout, err := timeoutOf(req.Timeout)
	if err != nil {
		return err
	}
	k, err := a.reg.GetOrCreate(r.Context(), session.CreateRequest{Name: r.PathValue("name"), Language: req.Language,
		Sandbox: req.Sandbox, Owner: owner(r), Session: true})
	if err != nil {
		return err
	}
	res, err := a.reg.Execute(r.Context(), k.ID, owner(r), req.Language, req.Code, timeout)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) sessionRetry(w http.ResponseWriter, r *http.Request) error {
	var req retryRequest
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	k, err := a.reg.GetOrCreate(r.Context(), session.CreateRequest{Name: r.PathValue("name"), Language: req.Language,
		Sandbox: req.Sandbox, Owner: owner(r), Session: true})
	if err != nil {
		return err
	}
	return a.retry(w, r, k.ID, req)
}

func (a *API) retry(w http.ResponseWriter, r *http.Request, id string, req retryRequest) error {
	timeout, err := timeoutOf(req.Timeout)
	if err != nil {
		return err
	}
	res, err := a.reg.ExecuteWithRetry(r.Context(), id, owner(r), session.RetryRequest{Code: req.Code,
		OnErrorCode: req.OnErrorCode, ReplacementCodes: req.ReplacementCodes, MaxAttempts: req.MaxAttempts, Timeout: timeout,
		Language: req.Language})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

// kernelList is GET /kernels, KernelBox's KernelListResponse.
type kernelList struct {
	Kernels []*session.Kernel `json:"kernels"`
}

func (a *API) list(w http.ResponseWriter, r *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, kernelList{Kernels: a.reg.List(r.Context(), owner(r))})
	return nil
}

func (a *API) create(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := httpx.Decode(w, r, &req, a.maxBody, true, true); err != nil {
		return err
	}
	k, err := a.reg.Create(r.Context(), session.CreateRequest{Name: req.Name, Language: req.Language,
		Sandbox: req.Sandbox, Owner: owner(r), Tags: req.Tags})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, k)
	return nil
}

func (a *API) get(w http.ResponseWriter, r *http.Request) error {
	k, err := a.reg.Get(r.Context(), r.PathValue("id"), owner(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, kernelView{Alive: k.Status != "dead", Kernel: k})
	return nil
}

func (a *API) remove(w http.ResponseWriter, r *http.Request) error {
	if err := a.reg.Delete(r.Context(), r.PathValue("id"), owner(r)); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"deleted": true})
	return nil
}

func (a *API) restart(w http.ResponseWriter, r *http.Request) error {
	k, err := a.reg.Restart(r.Context(), r.PathValue("id"), owner(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, k)
	return nil
}

func (a *API) kernelExecute(w http.ResponseWriter, r *http.Request) error {
	var req executeRequest
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	timeout, err := timeoutOf(req.Timeout)
	if err != nil {
		return err
	}
	res, err := a.reg.Execute(r.Context(), r.PathValue("id"), owner(r), req.Language, req.Code, timeout)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) kernelRetry(w http.ResponseWriter, r *http.Request) error {
	var req retryRequest
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	return a.retry(w, r, r.PathValue("id"), req)
}
