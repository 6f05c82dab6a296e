package template

import (
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// Apply returns spec with the template's defaults filled in where spec leaves a field
// unset: image, profile, limits, network, default user and port. Env vars are merged, the
// spec's winning. The template's name is recorded in spec.Template. t must be valid.
func (t Template) Apply(spec sandbox.Spec) sandbox.Spec {
	spec.Template = t.Name
	if spec.Image == "" {
		spec.Image = t.Image
	}
	if spec.Profile == "" {
		spec.Profile = t.Profile
	}
	if spec.Network == "" {
		spec.Network = sandbox.NetworkMode(t.Network)
	}
	if spec.DefaultUser == "" && spec.User == "" {
		spec.DefaultUser = t.User
	}
	if spec.Port == 0 {
		spec.Port = t.Port
	}
	vcpus, memMB, pids := t.limits()
	if spec.VCPUs == 0 {
		spec.VCPUs = vcpus
	}
	if spec.MemoryMB == 0 {
		spec.MemoryMB = memMB
	}
	if spec.Pids == 0 {
		spec.Pids = pids
	}
	if spec.DiskMB == 0 {
		spec.DiskMB = t.diskMB()
	}
	if len(t.EnvVars) > 0 {
		env := cloneMap(t.EnvVars)
		for k, v := range spec.Env {
			env[k] = v
		}
		spec.Env = env
	}
	return spec
}

// limits are the template's enforced limits (0 = the profile's).
func (t Template) limits() (vcpus float64, memoryMB, pids int64) {
	if t.Resources == nil {
		return 0, 0, 0
	}
	if v, err := ParseCPU(t.Resources.CPULimit); err == nil && t.Resources.CPULimit != "" {
		vcpus = v
	}
	if v, err := ParseMemory(t.Resources.MemoryLimit); err == nil && t.Resources.MemoryLimit != "" {
		memoryMB = mebibytes(v)
	}
	return vcpus, memoryMB, t.Resources.Pids
}

// diskMB is the template's disk size (0 = the profile's).
func (t Template) diskMB() int64 {
	if t.Resources == nil || t.Resources.Disk == "" {
		return 0
	}
	if v, err := ParseMemory(t.Resources.Disk); err == nil {
		return mebibytes(v)
	}
	return 0
}

// StartCommand is the argv run in the background when a sandbox of the template is created:
// startCmd through /bin/sh -c, else args, else pool.startupCmd (nil when there is none).
func (t Template) StartCommand() []string {
	switch {
	case t.StartCmd != "":
		return []string{"/bin/sh", "-c", t.StartCmd}
	case len(t.Args) > 0:
		return append([]string(nil), t.Args...)
	case t.Pool != nil:
		argv, _ := splitCommand(t.Pool.StartupCmd)
		return argv
	}
	return nil
}

// CreateOptions are the manager options a sandbox of the template is created with (its
// start command).
func (t Template) CreateOptions() []manager.CreateOption {
	if argv := t.StartCommand(); len(argv) > 0 {
		return []manager.CreateOption{manager.WithStartCommand(argv)}
	}
	return nil
}

// PoolConfig is the warm pool the template asks for (Size 0 when it has none).
func (t Template) PoolConfig() manager.PoolConfig {
	spec := t.Apply(sandbox.Spec{})
	c := manager.PoolConfig{Template: t.Name, Image: spec.Image, Profile: spec.Profile, VCPUs: spec.VCPUs,
		MemoryMB: spec.MemoryMB, Pids: spec.Pids, DiskMB: spec.DiskMB, Network: spec.Network, Env: spec.Env,
		DefaultUser: spec.DefaultUser, Prewarm: append([]string(nil), t.Prewarm...)}
	if t.Pool != nil {
		c.Size = t.Pool.Size
		c.Warmup, _ = splitCommand(t.Pool.WarmupCmd)
	}
	return c
}

// Pools are the warm pools of every template that asks for one.
func Pools(ts []Template) []manager.PoolConfig {
	var out []manager.PoolConfig
	for _, t := range ts {
		if c := t.PoolConfig(); c.Size > 0 {
			out = append(out, c)
		}
	}
	return out
}
