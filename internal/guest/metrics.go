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

	"github.com/paddock/paddock/internal/guestproto"
)

// The guest samples its sandbox's use every sampleEvery and keeps the last keepSamples
// readings (an hour), which GET /metrics?start=&end= returns. Samples start with the guest:
// a sandbox stopped and started again begins a new history, and a frozen one takes none.
const (
	sampleEvery = 5 * time.Second
	keepSamples = 720
)

// sampler keeps the history. Safe for concurrent use.
type sampler struct {
	mu      sync.Mutex
	history []guestproto.Metrics // oldest first, at most keepSamples
	at      time.Time            // when the last sample was taken
	usage   time.Duration        // the cgroup's CPU time then
}

// samples is the guest's one sampler: the guest process is one sandbox.
var (
	samples       = &sampler{}
	startSampling sync.Once
)

// metricsHandler serves GET /metrics and starts sampling, for as long as the process lives.
func metricsHandler() http.HandlerFunc {
	startSampling.Do(func() {
		samples.take(time.Now())
		go func() {
			for now := range time.Tick(sampleEvery) {
				samples.take(now)
			}
		}()
	})
	return samples.serve
}

// take records a sample.
func (s *sampler) take(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, usage := s.read(now)
	s.at, s.usage = now, usage
	if len(s.history) == keepSamples {
		s.history = s.history[1:]
	}
	s.history = append(s.history, m)
}

// read takes a reading at now; CPU use is averaged since the last sample. Callers hold mu.
func (s *sampler) read(now time.Time) (guestproto.Metrics, time.Duration) {
	m := guestproto.Metrics{TS: now.Unix(), CPUCount: runtime.NumCPU()}
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
	if wall := now.Sub(s.at); !s.at.IsZero() && wall > 0 && cg.cpuUsage >= s.usage {
		m.CPUUsedPct = 100 * float64(cg.cpuUsage-s.usage) / float64(wall) / float64(m.CPUCount)
	}
	var st unix.Statfs_t
	if unix.Statfs("/", &st) == nil {
		m.DiskTotal = st.Blocks * uint64(st.Bsize)
		m.DiskUsed = (st.Blocks - st.Bfree) * uint64(st.Bsize)
	}
	return m, cg.cpuUsage
}

// serve answers envd's GET /metrics: the current reading. With start or end (unix seconds,
// inclusive) it answers the samples taken in that range instead, oldest first, plus a
// current reading when the range holds the present.
func (s *sampler) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := time.Now()
	if !q.Has("start") && !q.Has("end") {
		s.mu.Lock()
		m, _ := s.read(now)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, m)
		return
	}
	start, err1 := unixParam(q.Get("start"), 0)
	end, err2 := unixParam(q.Get("end"), now.Unix())
	switch {
	case err1 != nil || err2 != nil:
		writeError(w, http.StatusBadRequest, "start and end are unix seconds")
		return
	case start > end:
		writeError(w, http.StatusBadRequest, "start is after end")
		return
	}
	s.mu.Lock()
	out := []guestproto.Metrics{}
	for _, m := range s.history {
		if m.TS >= start && m.TS <= end {
			out = append(out, m)
		}
	}
	if start <= now.Unix() && now.Unix() <= end {
		m, _ := s.read(now)
		out = append(out, m)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func unixParam(v string, def int64) (int64, error) {
	if v == "" {
		return def, nil
	}
	return strconv.ParseInt(v, 10, 64)
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
