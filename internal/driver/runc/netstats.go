package runc

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"

	"github.com/paddock/paddock/internal/sandbox"
)

// sandboxNIC is the interface of an egress sandbox (its TUN device, attachNetwork).
const sandboxNIC = "eth0"

// netStats reads the counters of the sandbox's network interface as the sandbox sees it, from
// /proc/<init>/net/dev of its init: the kernel's, so neither the cgroup version nor a restart
// of Paddock (which keeps the namespace) matters. Loopback traffic is not counted, so a
// sandbox without a network (NetworkNone) reads zeros; so does one whose init is not known to
// be its own. The counters start when the device is made: at each start of the sandbox.
func (d *Driver) netStats(id string, p paths) *sandbox.NetStats {
	pid := readPid(p.pidFile())
	if pid <= 0 {
		return &sandbox.NetStats{}
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/dev")
	// Checked after the read: a pid reused meanwhile would show some other namespace.
	if err != nil || !d.inCgroup(pid, id) {
		return &sandbox.NetStats{}
	}
	return parseNetDev(b, sandboxNIC)
}

// parseNetDev reads the counters of iface from a /proc/net/dev table (zeros when absent):
// after "iface:", receive bytes and packets are fields 1 and 2, transmit ones 9 and 10.
func parseNetDev(b []byte, iface string) *sandbox.NetStats {
	st := &sandbox.NetStats{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) != iface {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 10 {
			return st
		}
		n := func(i int) uint64 { v, _ := strconv.ParseUint(f[i], 10, 64); return v }
		st.RxBytes, st.RxPackets, st.TxBytes, st.TxPackets = n(0), n(1), n(8), n(9)
		return st
	}
	return st
}
