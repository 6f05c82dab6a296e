package agentsandbox

import (
	"net/http"
	"slices"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/template"
)

// poolTemplate is an entry of GET /api/v1/pool: a template with a warm pool, its pool
// carrying readySize (how many warm sandboxes wait), as Agent-Sandbox answers.
type poolTemplate struct {
	template.Template
	Pool poolView `json:"pool"`
}

type poolView struct {
	template.Pool
	ReadySize int `json:"readySize"`
}

// warmSandbox is an entry of GET /api/v1/pool/sandbox/{name}: one warm sandbox. Warm
// sandboxes have no name or ID a client could use until they are claimed.
type warmSandbox struct {
	Template string `json:"template"`
	Image    string `json:"image"`
	Status   string `json:"status"`
}

// readySize is how many warm sandboxes wait for template name (pools that templates share
// are counted for each).
func readySize(stats []manager.PoolStats, name string) (ready int, found bool) {
	for _, s := range stats {
		if slices.Contains(strings.Split(s.Template, ","), name) {
			ready += s.Ready
			found = true
		}
	}
	return ready, found
}

func (a *API) listPools(w http.ResponseWriter, _ *http.Request) error {
	out := []poolTemplate{}
	if a.opts.Templates == nil {
		return ok(w, out)
	}
	stats := a.m.PoolStats()
	for _, t := range a.opts.Templates.List() {
		if t.Pool == nil || t.Pool.Size <= 0 {
			continue
		}
		ready, _ := readySize(stats, t.Name)
		out = append(out, poolTemplate{Template: t, Pool: poolView{Pool: *t.Pool, ReadySize: ready}})
	}
	return ok(w, out)
}

// pooledTemplate is the template the path names, which must have a warm pool.
func (a *API) pooledTemplate(r *http.Request) (template.Template, error) {
	name := r.PathValue("name")
	if a.opts.Templates == nil {
		return template.Template{}, errdefs.NotFound("pool %s not found", name)
	}
	t, err := a.opts.Templates.Get(name)
	if err != nil || t.Pool == nil || t.Pool.Size <= 0 {
		return template.Template{}, errdefs.NotFound("pool %s not found: no template of that name has a pool", name)
	}
	return t, nil
}

func (a *API) poolSandboxes(w http.ResponseWriter, r *http.Request) error {
	t, err := a.pooledTemplate(r)
	if err != nil {
		return err
	}
	ready, _ := readySize(a.m.PoolStats(), t.Name)
	out := make([]warmSandbox, 0, ready)
	for range ready {
		out = append(out, warmSandbox{Template: t.Name, Image: t.Image, Status: "ready"})
	}
	return ok(w, out)
}

// deletePool drains the template's pool (its warm sandboxes are deleted) and refills it
// with fresh ones, as Agent-Sandbox's pool syncer does after a delete.
func (a *API) deletePool(w http.ResponseWriter, r *http.Request) error {
	t, err := a.pooledTemplate(r)
	if err != nil {
		return err
	}
	all := a.opts.Templates.List()
	without := slices.DeleteFunc(slices.Clone(all), func(o template.Template) bool { return o.Name == t.Name })
	// A pool that other templates share stays: their sandboxes come out the same.
	if err := a.m.SetPools(r.Context(), template.Pools(without)); err != nil {
		a.log.Warn("drain pool: some pools could not be set up", "template", t.Name, "err", err)
	}
	if err := a.m.SetPools(r.Context(), template.Pools(all)); err != nil {
		return err
	}
	return ok(w, "ok")
}
