package guest

import (
	"bufio"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// metricsResponse is envd's GET /metrics body.
type metricsResponse struct {
	TS          int64   `json:"ts"`
	CPUCount    int     `json:"cpu_count"`
	CPUUsedPct  float64 `json:"cpu_used_pct"`
	MemTotal    uint64  `json:"mem_total"`
	MemUsed     uint64  `json:"mem_used"`
	MemCache    uint64  `json:"mem_cache"`
	MemTotalMiB uint64  `json:"mem_total_mib"`
	MemUsedMiB  uint64  `json:"mem_used_mib"`
	DiskUsed    uint64  `json:"disk_used"`
	DiskTotal   uint64  `json:"disk_total"`
}

// cpuSampler turns the cgroup's cumulative CPU time into a percentage between two calls.
var cpuSampler struct {
	sync.Mutex
	at    time.Time
	usage time.Duration
}

func handleMetrics(w http.ResponseWriter, _ *http.Request) {
	now := time.Now()
	m := metricsResponse{TS: now.Unix(), CPUCount: runtime.NumCPU()}
	cg := readCgroup()
	m.MemUsed, m.MemCache = cg.memUsed, cg.memCache
	m.MemTotal = cg.memLimit
	if m.MemTotal == 0 {
		var si unix.Sysinfo_t
		if unix.Sysinfo(&si) == nil {
			m.MemTotal = si.Totalram * uint64(si.Unit)
		}
	}
	m.MemTotalMiB, m.MemUsedMiB = m.MemTotal>>20, m.MemUsed>>20
	cpuSampler.Lock()
	if !cpuSampler.at.IsZero() && cg.cpuUsage >= cpuSampler.usage {
		wall := now.Sub(cpuSampler.at)
		if wall > 0 {
			m.CPUUsedPct = 100 * float64(cg.cpuUsage-cpuSampler.usage) / float64(wall) / float64(m.CPUCount)
		}
	}
	cpuSampler.at, cpuSampler.usage = now, cg.cpuUsage
	cpuSampler.Unlock()
	var st unix.Statfs_t
	if unix.Statfs("/", &st) == nil {
		m.DiskTotal = st.Blocks * uint64(st.Bsize)
		m.DiskUsed = (st.Blocks - st.Bfree) * uint64(st.Bsize)
	}
	writeJSON(w, http.StatusOK, m)
}

type cgroupReading struct {
	memUsed, memCache, memLimit uint64
	cpuUsage                    time.Duration
}

// readCgroup reads the sandbox's own cgroup as mounted inside its cgroup namespace: the
// unified (v2) files when present, else the v1 controller directories.
func readCgroup() cgroupReading {
	var c cgroupReading
	if v, ok := readUint("/sys/fs/cgroup/memory.current"); ok {
		c.memUsed = v
		c.memLimit, _ = readUint("/sys/fs/cgroup/memory.max")
		c.memCache = statKey("/sys/fs/cgroup/memory.stat", "file")
		c.cpuUsage = time.Duration(statKey("/sys/fs/cgroup/cpu.stat", "usage_usec")) * time.Microsecond
		return c
	}
	c.memUsed, _ = readUint("/sys/fs/cgroup/memory/memory.usage_in_bytes")
	c.memLimit, _ = readUint("/sys/fs/cgroup/memory/memory.limit_in_bytes")
	if c.memLimit > 1<<60 { // v1 reports "unlimited" as a huge page-aligned number
		c.memLimit = 0
	}
	c.memCache = statKey("/sys/fs/cgroup/memory/memory.stat", "cache")
	ns, _ := readUint("/sys/fs/cgroup/cpuacct/cpuacct.usage")
	c.cpuUsage = time.Duration(ns)
	return c
}

func readUint(path string) (uint64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return v, err == nil
}

func statKey(path, key string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}
