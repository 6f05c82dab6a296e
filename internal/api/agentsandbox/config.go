package agentsandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/template"
)

// getTemplates answers Paddock's templates as Agent-Sandbox's templates.json: a JSON array,
// Agent-Sandbox's fields first, Paddock's own after them.
func (a *API) getTemplates(w http.ResponseWriter, _ *http.Request) error {
	if a.opts.Templates == nil {
		return ok(w, []template.Template{})
	}
	return ok(w, a.opts.Templates.List())
}

// saveTemplates replaces the templates file with the array in the body (validated as a
// whole: nothing is saved when one template is wrong). The built-in templates stay unless
// the array overrides them.
func (a *API) saveTemplates(w http.ResponseWriter, r *http.Request) error {
	if a.opts.Templates == nil {
		return errdefs.FailedPrecondition("this server keeps no templates file")
	}
	data, err := a.readBody(w, r)
	if err != nil {
		return err
	}
	ts, err := template.Parse(data)
	if err != nil {
		return err
	}
	if err := a.opts.Templates.Save(r.Context(), ts); err != nil {
		return err
	}
	return ok(w, "ok")
}

// readBody reads a whole JSON body of at most MaxBodyBytes.
func (a *API) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.opts.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, fmt.Errorf("body exceeds %d bytes: %w", a.opts.MaxBodyBytes, httpx.ErrTooLarge)
	}
	return data, err
}

// sandboxTemplate is the document at /api/v1/config/sandbox-template: the defaults every
// sandbox made without a template gets, which are those of the template "base". Where
// Agent-Sandbox keeps a ReplicaSet YAML rendered per sandbox, Paddock keeps these fields;
// docs/agent-sandbox.md maps one onto the other.
type sandboxTemplate struct {
	// Image is the root filesystem ("base" = the host's /usr, read-only).
	Image string `json:"image"`
	// Profile is the security profile: permissive, moderate or restrictive.
	Profile string `json:"profile,omitempty"`
	// Network is "none" or "egress" ("" = the profile's).
	Network string `json:"network,omitempty"`
	// User runs the sandbox's processes ("" = the image's, then the profile's).
	User    string            `json:"user,omitempty"`
	EnvVars map[string]string `json:"envVars,omitempty"`
	// Resources are the limits: cpuLimit, memoryLimit, pids, disk (cpu and memory, the
	// requests, are checked and kept: runc has no scheduler to reserve them with).
	Resources *template.Resources `json:"resources,omitempty"`
	// StartCmd runs through /bin/sh -c in the background in every new sandbox.
	StartCmd string `json:"startCmd,omitempty"`
}

// replicaSetFields are what a ReplicaSet or its pod spec may hold that a Paddock sandbox
// cannot take; naming them makes the refusal say why.
var replicaSetFields = map[string]string{
	"apiVersion": "", "kind": "", "metadata": "", "spec": "", "replicas": "", "selector": "",
	"containers": "", "initContainers": "", "volumes": "host paths are not mounted into sandboxes",
	"volumeMounts": "host paths are not mounted into sandboxes", "nodeSelector": "there are no nodes to select",
	"affinity": "there are no nodes to select", "tolerations": "there are no nodes to select",
	"runtimeClassName": "the OCI runtime is the server's (--runtime)", "serviceAccountName": "sandboxes get no Kubernetes credentials",
	"hostNetwork": "sandboxes always have their own network namespace", "securityContext": "use profile",
	"imagePullPolicy": "images are pulled once and cached", "startupProbe": "Paddock waits for its guest, not for a port",
	"readinessProbe": "Paddock waits for its guest, not for a port", "livenessProbe": "Paddock waits for its guest, not for a port",
	"command": "use startCmd", "args": "use startCmd", "env": "use envVars", "ports": "set port on a template",
}

func (a *API) getSandboxTemplate(w http.ResponseWriter, _ *http.Request) error {
	t, err := a.baseTemplate()
	if err != nil {
		return err
	}
	return ok(w, sandboxTemplate{Image: t.Image, Profile: t.Profile, Network: t.Network, User: t.User,
		EnvVars: t.EnvVars, Resources: t.Resources, StartCmd: t.StartCmd})
}

// saveSandboxTemplate replaces the defaults: the fields of the template "base" that the
// document holds (its description, port, pool and the rest are kept).
func (a *API) saveSandboxTemplate(w http.ResponseWriter, r *http.Request) error {
	t, err := a.baseTemplate()
	if err != nil {
		return err
	}
	data, err := a.readBody(w, r)
	if err != nil {
		return err
	}
	doc, err := parseSandboxTemplate(data)
	if err != nil {
		return err
	}
	t.Image, t.Profile, t.Network, t.User = doc.Image, doc.Profile, doc.Network, doc.User
	t.EnvVars, t.Resources, t.StartCmd = doc.EnvVars, doc.Resources, doc.StartCmd
	if t.StartCmd != "" {
		t.Args = nil // startCmd wins over args; keeping both would be ambiguous
	}
	ts := a.opts.Templates.List()
	for i := range ts {
		if ts[i].Name == t.Name {
			ts[i] = t
		}
	}
	if err := a.opts.Templates.Save(r.Context(), ts); err != nil {
		return err
	}
	return ok(w, "ok")
}

func (a *API) baseTemplate() (template.Template, error) {
	if a.opts.Templates == nil {
		return template.Template{}, errdefs.FailedPrecondition("this server keeps no templates file")
	}
	return a.opts.Templates.Get(template.Base)
}

// parseSandboxTemplate decodes the document strictly. A YAML body (Agent-Sandbox's
// ReplicaSet) and the ReplicaSet's fields are refused by name.
func parseSandboxTemplate(data []byte) (sandboxTemplate, error) {
	var doc sandboxTemplate
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return doc, errdefs.InvalidArgument("sandbox template content is required: a JSON object such as {\"image\":\"base\",\"profile\":\"moderate\"}")
	}
	if trimmed[0] != '{' {
		return doc, errdefs.InvalidArgument("the sandbox template is a JSON object in Paddock, not a ReplicaSet YAML: Paddock runs sandboxes with runc, not as pods (docs/agent-sandbox.md maps the fields)")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return doc, errdefs.InvalidArgument("invalid JSON: %v", err)
	}
	var refused []string
	for k := range raw {
		if why, ok := replicaSetFields[k]; ok {
			if why == "" {
				why = "it is ReplicaSet structure"
			}
			refused = append(refused, fmt.Sprintf("%s (%s)", k, why))
		}
	}
	if len(refused) > 0 {
		sort.Strings(refused)
		return doc, errdefs.InvalidArgument("cannot apply to a Paddock sandbox: %s", strings.Join(refused, "; "))
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return doc, errdefs.InvalidArgument("sandbox template: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	if doc.Image == "" {
		return doc, errdefs.InvalidArgument("image is required")
	}
	return doc, nil
}
