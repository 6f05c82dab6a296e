package process

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// OOMKilledError is the EndEvent error of a process killed by the sandbox's memory limit.
const OOMKilledError = "out of memory: killed by the sandbox memory limit"

// oomKills reads the sandbox cgroup's OOM-kill counter as seen inside its cgroup namespace:
// memory.events on cgroup v2, memory.oom_control on v1. ok is false when neither is readable.
func oomKills() (n uint64, ok bool) {
	for _, f := range []string{"/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"} {
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
