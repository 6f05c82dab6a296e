package runc

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/paddock/paddock/internal/sandbox"
)

// cpuPeriod is the CFS period the CPU quota is expressed in (100 ms).
const cpuPeriod = 100000

// resources turns limits into cgroup settings, which the runtime applies on v1 and v2 alike.
// Zero means unlimited. Devices are deny-all: the runtime then allows only its default set
// (null, zero, full, random, urandom, tty, ptmx and the pts).
func resources(r sandbox.Resources) *specs.LinuxResources {
	out := &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	}
	if r.MemoryMB > 0 {
		limit := r.MemoryMB << 20
		swap := limit // memory+swap = memory: no swap
		out.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &swap}
	}
	if r.VCPUs > 0 {
		period := uint64(cpuPeriod)
		quota := int64(r.VCPUs * cpuPeriod)
		out.CPU = &specs.LinuxCPU{Period: &period, Quota: &quota}
	}
	if r.Pids > 0 {
		pids := r.Pids
		out.Pids = &specs.LinuxPids{Limit: &pids}
	}
	return out
}
