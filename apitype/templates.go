package apitype

// Template is a sandbox template: Agent-Sandbox's template fields plus Paddock's (profile,
// network, user, startCmd, prewarm). See docs/templates.md. PUT /templates takes a list of
// them and ignores Source, so a listing can be edited and sent back.
type Template struct {
	Name           string             `json:"name"`
	Image          string             `json:"image"`
	Description    string             `json:"description"`
	Port           int                `json:"port,omitempty"`
	Type           string             `json:"type,omitempty"`
	Args           []string           `json:"args,omitempty"`
	EnvVars        map[string]string  `json:"envVars,omitempty"`
	Shell          string             `json:"shell,omitempty"`
	NoStartupProbe bool               `json:"noStartupProbe,omitempty"`
	Metadata       map[string]string  `json:"metadata,omitempty"`
	Resources      *TemplateResources `json:"resources,omitempty"`
	Pool           *TemplatePool      `json:"pool,omitempty"`
	Profile        string             `json:"profile,omitempty"`
	Network        string             `json:"network,omitempty"`
	User           string             `json:"user,omitempty"`
	StartCmd       string             `json:"startCmd,omitempty"`
	Prewarm        []string           `json:"prewarm,omitempty"`
	// Source is where the server has the template from: "builtin" or "file".
	Source string `json:"source,omitempty"`
}

// TemplateResources are Kubernetes-style quantities ("500m", "512Mi"); Pids and Disk are
// Paddock's.
type TemplateResources struct {
	CPU         string `json:"cpu,omitempty"`
	Memory      string `json:"memory,omitempty"`
	CPULimit    string `json:"cpuLimit,omitempty"`
	MemoryLimit string `json:"memoryLimit,omitempty"`
	Pids        int64  `json:"pids,omitempty"`
	Disk        string `json:"disk,omitempty"`
}

// TemplatePool is a template's warm pool.
type TemplatePool struct {
	Size       int                `json:"size"`
	ProbePort  int                `json:"probePort,omitempty"`
	WarmupCmd  string             `json:"warmupCmd,omitempty"`
	StartupCmd string             `json:"startupCmd,omitempty"`
	Resources  *TemplateResources `json:"resources,omitempty"`
}
