package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/template"
)

// createArgs are createSandbox's arguments, Agent-Sandbox's SandboxBase.
type createArgs struct {
	Name        string `json:"name,omitempty" jsonschema:"the name of the sandbox: lowercase letters, digits and -, at most 50; generated when empty"`
	Environment string `json:"environment,omitempty" jsonschema:"the template to make the sandbox from (default: base)"`
}

// nameArgs name one sandbox (getSandbox, deleteSandbox).
type nameArgs struct {
	Name string `json:"name" jsonschema:"the name of the sandbox"`
}

// listArgs are listSandbox's arguments: none.
type listArgs struct{}

// sandboxView is a sandbox as the Agent-Sandbox tools describe it (the shape of its
// /api/v1 sandbox object).
type sandboxView struct {
	Name      string            `json:"name"`
	Template  string            `json:"template,omitempty"`
	ID        string            `json:"id"`
	Image     string            `json:"image,omitempty"`
	Timeout   int               `json:"timeout,omitempty"`
	Status    string            `json:"status"`
	CreatedAt time.Time         `json:"created_at"`
	ExpiresAt *time.Time        `json:"expires_at,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// Agent-Sandbox's default lifetime of a sandbox.
const defaultTimeout = 30 * time.Minute

// nameRE is Agent-Sandbox's name rule (lowercase letters, digits and -, at most 50), with
// Paddock's: no - at either end.
var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$`)

func view(sb *sandbox.Sandbox) sandboxView {
	v := sandboxView{Name: sb.Name, Template: sb.Spec.Template, ID: sb.ID, Image: sb.Instance.Image.Ref,
		Status: string(sb.State), CreatedAt: sb.CreatedAt, ExpiresAt: sb.ExpiresAt, Metadata: sb.Spec.Labels}
	if sb.ExpiresAt != nil && sb.Spec.TTL > 0 {
		v.Timeout = int(sb.Spec.TTL / time.Second)
	}
	return v
}

// templated is spec made from the template called name (base when empty).
func (s *Server) templated(name string, spec sandbox.Spec) (sandbox.Spec, []manager.CreateOption, error) {
	if s.opts.Templates == nil {
		return spec, nil, nil
	}
	if name == "" {
		name = template.Base
	}
	t, err := s.opts.Templates.Get(name)
	if err != nil {
		return spec, nil, err
	}
	return t.Apply(spec), t.CreateOptions(), nil
}

// sandboxToolsText is what createSandbox and getSandbox append, as Agent-Sandbox does: the
// tools sandboxExecutor runs in the sandbox.
func sandboxToolsText() string {
	b, _ := json.MarshalIndent(executorTools(), "", "  ")
	return "\nYou can use the following Tools to interact with the Sandbox by calling sandboxExecutor with sandbox_name, tool_name and arguments:\n" + string(b)
}

func (s *Server) createSandbox(ctx context.Context, in createArgs) (string, error) {
	if in.Name == "" {
		in.Name = generatedName("sandbox")
	}
	if !nameRE.MatchString(in.Name) {
		return "", errdefs.InvalidArgument("invalid sandbox name %q: use lowercase letters, digits and -, at most 50, starting and ending with a letter or digit", in.Name)
	}
	spec, opts, err := s.templated(in.Environment, sandbox.Spec{Name: in.Name, TTL: defaultTimeout})
	if err != nil {
		return "", err
	}
	sb, err := s.m.Create(ctx, spec, owner(ctx), opts...)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Sandbox created, Sandbox name:%s, %s", sb.Name, sandboxToolsText()), nil
}

// sandboxNamed finds the sandbox called name (or with that ID).
func (s *Server) sandboxNamed(ctx context.Context, name string) (*sandbox.Sandbox, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, errdefs.InvalidArgument("sandbox name is required")
	}
	sb, err := s.m.Get(ctx, name)
	if errdefs.IsNotFound(err) {
		return nil, errdefs.NotFound("sandbox %s not found", name)
	}
	return sb, err
}

func (s *Server) getSandbox(ctx context.Context, in nameArgs) (string, error) {
	sb, err := s.sandboxNamed(ctx, in.Name)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(view(sb))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Sandbox details:\n%s\n%s", b, sandboxToolsText()), nil
}

func (s *Server) listSandbox(ctx context.Context, _ listArgs) (string, error) {
	sbs, err := s.m.List(ctx, sandbox.ListFilter{})
	if err != nil {
		return "", err
	}
	out := make([]sandboxView, 0, len(sbs))
	for _, sb := range sbs {
		out = append(out, view(sb))
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (s *Server) deleteSandbox(ctx context.Context, in nameArgs) (string, error) {
	sb, err := s.sandboxNamed(ctx, in.Name)
	if err != nil {
		return "", err
	}
	if err := s.m.Delete(ctx, sb.ID); err != nil {
		return "", err
	}
	return fmt.Sprintf("Sandbox %s deleted successfully", sb.Name), nil
}

// templatesText lists the templates for the tool descriptions, as Agent-Sandbox lists its
// environments: name and description, no image.
func (s *Server) templatesText() string {
	if s.opts.Templates == nil {
		return "[]"
	}
	type entry struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	var out []entry
	for _, t := range s.opts.Templates.List() {
		out = append(out, entry{Name: t.Name, Description: t.Description})
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	return string(b)
}
