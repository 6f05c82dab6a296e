package native

import (
	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/template"
)

// toTemplate is t as this surface shows it, with where the server has it from (source).
func toTemplate(t template.Template, source string) apitype.Template {
	return apitype.Template{Name: t.Name, Image: t.Image, Description: t.Description, Port: t.Port, Type: t.Type,
		Args: t.Args, EnvVars: t.EnvVars, Shell: t.Shell, NoStartupProbe: t.NoStartupProbe, Metadata: t.Metadata,
		Resources: toResources(t.Resources), Pool: toPool(t.Pool), Profile: t.Profile, Network: t.Network,
		User: t.User, StartCmd: t.StartCmd, Prewarm: t.Prewarm, Source: source}
}

func toResources(r *template.Resources) *apitype.TemplateResources {
	if r == nil {
		return nil
	}
	return &apitype.TemplateResources{CPU: r.CPU, Memory: r.Memory, CPULimit: r.CPULimit,
		MemoryLimit: r.MemoryLimit, Pids: r.Pids, Disk: r.Disk}
}

func toPool(p *template.Pool) *apitype.TemplatePool {
	if p == nil {
		return nil
	}
	return &apitype.TemplatePool{Size: p.Size, ProbePort: p.ProbePort, WarmupCmd: p.WarmupCmd,
		StartupCmd: p.StartupCmd, Resources: toResources(p.Resources)}
}

// fromTemplate is the template a client sent; its Source is ignored.
func fromTemplate(t apitype.Template) template.Template {
	return template.Template{Name: t.Name, Image: t.Image, Description: t.Description, Port: t.Port, Type: t.Type,
		Args: t.Args, EnvVars: t.EnvVars, Shell: t.Shell, NoStartupProbe: t.NoStartupProbe, Metadata: t.Metadata,
		Resources: fromResources(t.Resources), Pool: fromPool(t.Pool), Profile: t.Profile, Network: t.Network,
		User: t.User, StartCmd: t.StartCmd, Prewarm: t.Prewarm}
}

func fromResources(r *apitype.TemplateResources) *template.Resources {
	if r == nil {
		return nil
	}
	return &template.Resources{CPU: r.CPU, Memory: r.Memory, CPULimit: r.CPULimit,
		MemoryLimit: r.MemoryLimit, Pids: r.Pids, Disk: r.Disk}
}

func fromPool(p *apitype.TemplatePool) *template.Pool {
	if p == nil {
		return nil
	}
	return &template.Pool{Size: p.Size, ProbePort: p.ProbePort, WarmupCmd: p.WarmupCmd,
		StartupCmd: p.StartupCmd, Resources: fromResources(p.Resources)}
}
