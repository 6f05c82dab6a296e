package e2b

import (
	"regexp"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/template"
)

// templateAliases are template IDs Paddock accepted before it had templates.
var templateAliases = map[string]string{"code-interpreter": template.CodeInterpreter}

// versionSuffix is Agent-Sandbox's template version suffix ("-v2"), which it strips.
var versionSuffix = regexp.MustCompile(`-v[0-9]+$`)

// resolveTemplate finds the template an E2B templateID names: the ID itself, else the ID
// without a ":tag", without a "-vN" version suffix, or an older alias. An unknown ID is a
// not-found error (404, as E2B answers) listing the templates there are.
func (a *API) resolveTemplate(id string) (template.Template, error) {
	if a.templates == nil {
		return template.Template{}, errdefs.NotFound("template %q not found", id)
	}
	t, err := a.templates.Get(id)
	if err == nil {
		return t, nil
	}
	var candidates []string
	if name, _, ok := strings.Cut(id, ":"); ok {
		candidates = append(candidates, name)
	}
	if loc := versionSuffix.FindStringIndex(id); loc != nil {
		candidates = append(candidates, id[:loc[0]])
	}
	if alias, ok := templateAliases[id]; ok {
		candidates = append(candidates, alias)
	}
	for _, c := range candidates {
		if t, cerr := a.templates.Get(c); cerr == nil {
			return t, nil
		}
	}
	return template.Template{}, err
}
