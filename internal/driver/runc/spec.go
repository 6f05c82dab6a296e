package runc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/seccomp"
)

// guestBinaryPath is where the guest binary is in every sandbox.
const guestBinaryPath = "/.paddock/bin/paddock"

// ociVersion is the runtime-spec version bundles declare: the oldest whose features they
// use, so that runtimes that lag behind the Go types (crun 1.8 refuses "1.3.0") run them.
const ociVersion = "1.0.2"

// writeConfig renders the bundle's config.json, for a sandbox with the user cgroup uc (nil:
// none).
func (d *Driver) writeConfig(spec sandbox.InstanceSpec, p paths, uc *userCgroup) error {
	s, err := d.buildSpec(spec)
	if err != nil {
		return err
	}
	uc.apply(s)
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode OCI spec of %s: %w", spec.ID, err)
	}
	if err := os.WriteFile(filepath.Join(p.bundle(), "config.json"), b, 0o600); err != nil {
		return fmt.Errorf("write OCI spec of %s: %w", spec.ID, err)
	}
	return nil
}

// buildSpec turns an InstanceSpec into an OCI runtime spec. Each concern has its own
// builder: process and confinement (spec_security.go), mounts (spec_mounts.go) and cgroup
// limits (spec_resources.go).
func (d *Driver) buildSpec(in sandbox.InstanceSpec) (*specs.Spec, error) {
	sc, err := seccomp.OCI(in.Security.Seccomp)
	if err != nil {
		return nil, err
	}
	return &specs.Spec{
		Version:     ociVersion,
		Hostname:    in.Hostname,
		Root:        &specs.Root{Path: "rootfs", Readonly: in.Security.ReadOnlyRoot},
		Process:     process(in.Security),
		Mounts:      mounts(in, d.cfg.GuestBinary, d.paths(in.ID)),
		Annotations: annotations(in),
		Linux: &specs.Linux{
			CgroupsPath:   d.cgroupPath(in.ID),
			Resources:     resources(in.Resources),
			Namespaces:    namespaces(in.Network, d.paths(in.ID).netns()),
			Seccomp:       sc,
			MaskedPaths:   append([]string(nil), maskedPaths...),
			ReadonlyPaths: append([]string(nil), readonlyPaths...),
		},
	}, nil
}

// cgroupPath is the sandbox's cgroup, relative to each hierarchy's root.
func (d *Driver) cgroupPath(id string) string { return d.cfg.CgroupParent + "/" + id }

// annotations are the sandbox's labels plus its ID, so a reconciler can find the container.
func annotations(in sandbox.InstanceSpec) map[string]string {
	out := make(map[string]string, len(in.Labels)+1)
	for k, v := range in.Labels {
		out[k] = v
	}
	out[sandbox.LabelID] = in.ID
	return out
}

// namespaces are all new, except that an egress sandbox joins the network namespace the
// driver pinned at netnsPath (where its TUN device lives); otherwise the network namespace
// has only loopback.
func namespaces(mode sandbox.NetworkMode, netnsPath string) []specs.LinuxNamespace {
	network := specs.LinuxNamespace{Type: specs.NetworkNamespace}
	if mode == sandbox.NetworkEgress {
		network.Path = netnsPath
	}
	return []specs.LinuxNamespace{
		{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
		{Type: specs.MountNamespace}, network, {Type: specs.CgroupNamespace},
	}
}
