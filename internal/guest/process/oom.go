package process

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// oomCounterFiles hold the sandbox cgroup's OOM-kill counter as seen inside its cgroup
// namespace: memory.events on cgroup v2, memory.oom_control on v1.
var oomCounterFiles = []string{"/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"}

// oomProbe is the OOM-kill counter when a process started.
type oomProbe struct {
	files  []string
	before uint64
	known  bool // false when no counter was readable: no OOM information
}

func probeOOM(files []string) oomProbe {
	n, ok := oomKills(files)
	return oomProbe{files: files, before: n, known: ok}
}

// rose reports whether an OOM kill happened in the sandbox since the probe was taken.
func (p oomProbe) rose() bool {
	if !p.known {
		return false
	}
	after, ok := oomKills(p.files)
	return ok && after > p.before
}

// oomKills reads the "oom_kill N" line of the first readable file.
func oomKills(files []string) (uint64, bool) {
	for _, f := range files {
		if n, ok := readCounter(f, "oom_kill"); ok {
			return n, true
		}
	}
	return 0, false
}

func readCounter(path, key string) (uint64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
