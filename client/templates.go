package client

import (
	"context"

	"github.com/paddock/paddock/apitype"
)

type (
	// Template is a sandbox template: Agent-Sandbox's template fields plus Paddock's
	// (profile, network, user, startCmd, prewarm). See docs/templates.md.
	Template = apitype.Template
	// TemplateResources are Kubernetes-style quantities ("500m", "512Mi").
	TemplateResources = apitype.TemplateResources
	// TemplatePool is a template's warm pool.
	TemplatePool = apitype.TemplatePool
)

// ListTemplates returns every template the server has, sorted by name.
func (c *Client) ListTemplates(ctx context.Context) ([]Template, error) {
	var out []Template
	err := c.do(ctx, "GET", "/templates", nil, &out)
	return out, err
}

// GetTemplate describes one template.
func (c *Client) GetTemplate(ctx context.Context, name string) (*Template, error) {
	var out Template
	return &out, c.do(ctx, "GET", "/templates/"+esc(name), nil, &out)
}

// PutTemplates replaces the server's templates file with ts (validated as a whole; built-ins
// left out stay) and returns the templates now in effect.
func (c *Client) PutTemplates(ctx context.Context, ts []Template) ([]Template, error) {
	if ts == nil {
		ts = []Template{}
	}
	var out []Template
	err := c.do(ctx, "PUT", "/templates", ts, &out)
	return out, err
}
