package trinity

import (
	"net/http"
	"strconv"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/fleet"
	"github.com/paddock/paddock/internal/schedule"
)

// schedules is the schedule service, or the 503 of a server without one.
func (a *API) schedules() (*schedule.Service, error) {
	if a.Schedules == nil {
		return nil, errdefs.Unavailable("schedules are not available on this server")
	}
	return a.Schedules, nil
}

// scheduledAgent is the agent of a schedule route: any caller who may use it reads its
// schedules; only its owner (or an admin) changes them.
func (a *API) scheduledAgent(r *http.Request, change bool) (*schedule.Service, *fleet.Agent, error) {
	svc, err := a.schedules()
	if err != nil {
		return nil, nil, err
	}
	var ag *fleet.Agent
	if change {
		ag, err = a.svc.Owned(r.Context(), r.PathValue("name"))
	} else {
		ag, _, err = a.svc.Get(r.Context(), r.PathValue("name"))
	}
	return svc, ag, err
}

func (a *API) listSchedules(w http.ResponseWriter, r *http.Request) error {
	svc, ag, err := a.scheduledAgent(r, false)
	if err != nil {
		return err
	}
	scs, err := svc.List(r.Context(), ag.ID)
	if err != nil {
		return err
	}
	out := make([]schedule.Response, 0, len(scs))
	for _, sc := range scs {
		out = append(out, schedule.ToResponse(sc, ag.Name))
	}
	return ok(w, http.StatusOK, out)
}

func (a *API) createSchedule(w http.ResponseWriter, r *http.Request) error {
	svc, ag, err := a.scheduledAgent(r, true)
	if err != nil {
		return err
	}
	var req schedule.CreateRequest
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	sc, err := svc.Create(r.Context(), ag.ID, req)
	if err != nil {
		return err
	}
	return ok(w, http.StatusCreated, schedule.ToResponse(*sc, ag.Name))
}

func (a *API) getSchedule(w http.ResponseWriter, r *http.Request) error {
	svc, ag, err := a.scheduledAgent(r, false)
	if err != nil {
		return err
	}
	sc, err := svc.Get(r.Context(), ag.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, schedule.ToResponse(*sc, ag.Name))
}

func (a *API) updateSchedule(w http.ResponseWriter, r *http.Request) error {
	svc, ag, err := a.scheduledAgent(r, true)
	if err != nil {
		return err
	}
	var req schedule.UpdateRequest
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	sc, err := svc.Update(r.Context(), ag.ID, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, schedule.ToResponse(*sc, ag.Name))
}

func (a *API) deleteSchedule(w http.ResponseWriter, r *http.Request) error {
	svc, ag, err := a.scheduledAgent(r, true)
	if err != nil {
		return err
	}
	if err := svc.Delete(r.Context(), ag.ID, r.PathValue("id")); err != nil {
		return err
	}
	return ok(w, http.StatusOK, message{Message: "Schedule " + r.PathValue("id") + " deleted"})
}

// scheduleExecutions lists a schedule's executions (all the agent's on
// /api/agents/{name}/executions), newest first (?limit=, 1-500, default 50).
func (a *API) scheduleExecutions(w http.ResponseWriter, r *http.Request) error {
	svc, ag, err := a.scheduledAgent(r, false)
	if err != nil {
		return err
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return errdefs.InvalidArgument("limit: want a number from 1 to 500")
		}
		limit = n
	}
	execs, err := svc.Executions(r.Context(), ag.ID, r.PathValue("id"), limit)
	if err != nil {
		return err
	}
	out := make([]schedule.ExecutionResponse, 0, len(execs))
	for _, e := range execs {
		out = append(out, schedule.ToExecutionResponse(e, ag.Name))
	}
	return ok(w, http.StatusOK, out)
}
