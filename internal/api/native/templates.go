package native

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/template"
)

func (a *API) templateList() []apitype.Template {
	ts := a.templates.List()
	out := make([]apitype.Template, 0, len(ts))
	for _, t := range ts {
		out = append(out, toTemplate(t, a.templates.Source(t.Name)))
	}
	return out
}

func (a *API) listTemplates(w http.ResponseWriter, _ *http.Request) error {
	if a.templates == nil {
		return ok(w, http.StatusOK, []apitype.Template{})
	}
	return ok(w, http.StatusOK, a.templateList())
}

func (a *API) getTemplate(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if a.templates == nil {
		return errdefs.NotFound("template %q not found", name)
	}
	t, err := a.templates.Get(name)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, toTemplate(t, a.templates.Source(name)))
}

// putTemplates replaces the templates file with the body's list (validated as a whole).
// Built-ins the list leaves out stay; listing one changed overrides it.
func (a *API) putTemplates(w http.ResponseWriter, r *http.Request) error {
	if a.templates == nil {
		return errdefs.FailedPrecondition("this server keeps no templates file")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.opts.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fmt.Errorf("body exceeds %d bytes: %w", a.opts.MaxBodyBytes, httpx.ErrTooLarge)
	}
	if err != nil {
		return err
	}
	if err := template.RefuseZeroPorts(body); err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var req []apitype.Template
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	ts := make([]template.Template, 0, len(req))
	for _, v := range req {
		ts = append(ts, fromTemplate(v)) // its source is the server's to say
	}
	if err := a.templates.Save(r.Context(), ts); err != nil {
		return err
	}
	return ok(w, http.StatusOK, a.templateList())
}

// templated fills spec's defaults from the template called name ("" = none) and returns the
// create options the template asks for (its start command). An unknown template is a
// not-found error naming it.
func (a *API) templated(name string, spec sandbox.Spec) (sandbox.Spec, []manager.CreateOption, error) {
	if name == "" {
		return spec, nil, nil
	}
	if a.templates == nil {
		return spec, nil, errdefs.NotFound("template %q not found", name)
	}
	t, err := a.templates.Get(name)
	if err != nil {
		return spec, nil, err
	}
	return t.Apply(spec), t.CreateOptions(), nil
}
