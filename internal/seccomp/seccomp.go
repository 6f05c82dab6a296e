// Package seccomp builds the OCI seccomp filters behind Paddock's security profiles.
package seccomp

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/paddock/paddock/internal/errdefs"
)

// Profile names.
const (
	DockerDefault = "docker-default" // deny list equivalent to Docker's default profile
	Moderate      = "moderate"       // DockerDefault plus ptrace, bpf, userfaultfd, perf_event_open
	Restrictive   = "restrictive"    // allow list
)

// OCI returns the runtime-spec seccomp configuration for the named profile.
// TODO(helper): real filters; this stub only validates the name.
func OCI(name string) (*specs.LinuxSeccomp, error) {
	switch name {
	case DockerDefault, Moderate, Restrictive:
		return nil, nil
	}
	return nil, errdefs.InvalidArgument("unknown seccomp profile %q", name)
}
