package process

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Bounds of one tree kill: rounds of looking for processes not stopped yet, and the time
// until everything found is gone. A tree that outlasts them keeps what escaped. The time is
// generous: on an idle machine a kill of a thousand processes takes milliseconds, but the
// guest shares its sandbox's CPU with what it kills, and on a host loaded many times over
// (load 50 on 2 cores, seen in CI) a 10 s bound ran out with a setsid bomb's 1023 processes
// found and stopped but not yet reaped.
const (
	treeKillRounds  = 100
	treeKillTimeout = time.Minute
)

// procInfo is one process as /proc/<pid>/stat describes it.
type procInfo struct {
	pid, ppid, pgrp, sid int
	start                uint64 // start time in clock ticks since boot: tells a reused pid apart
	zombie               bool
}

// killTree ends the command whose first process is leader (a session and process group
// leader), with everything it forked, and returns once all of it is gone and reaped (or
// after treeKillTimeout). It returns how many processes it killed.
//
// kill(-pgid) is atomic against forks inside the group: the kernel restarts a fork that
// races a group signal. Processes that left the group (setsid, setpgid) are found through
// /proc: members of the command's sessions and groups, and their descendants. They are
// stopped first, round after round until a round finds no new one, so that none can fork
// or orphan its children (reparented to the guest, they would lose their ancestry) while the
// tree is collected; then all of them get SIGKILL.
//
// A process that lost its ancestry (its parent exited, so it was reparented to the guest or
// to init) in a session of its own, such as a double-forked daemon or a bomb's child whose
// parent died mid-kill (the OOM killer picks bomb processes), is found by the files the
// guest made for this command and it inherited: marks are their /proc/<pid>/fd link targets
// (the stdout and stderr pipes, the terminal). One that closed them all is not found.
//
// The leader's group and session stay this command's while they have members: the kernel
// does not hand out a pid that still names a group or session.
func killTree(leader int, marks []string) int {
	deadline := time.Now().Add(treeKillTimeout)
	self := selfInfo()
	_ = unix.Kill(-leader, unix.SIGSTOP)
	found := map[int]uint64{} // pid -> start time
	holds := marked(marks)
	for round := 0; round < treeKillRounds && time.Now().Before(deadline); round++ {
		fresh := 0
		for _, p := range treeOf(readProcs(), leader, self, holds) {
			if start, ok := found[p.pid]; ok && start == p.start {
				continue
			}
			found[p.pid] = p.start
			fresh++
			_ = unix.Kill(p.pid, unix.SIGSTOP)
		}
		if fresh == 0 {
			break
		}
	}
	_ = unix.Kill(-leader, unix.SIGKILL)
	for pid := range found {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
	waitGone(found, self, deadline)
	return len(found)
}

// waitGone waits until no process of found is left (a zombie counts until the guest, when it
// is its parent, has reaped it: until then it holds its pid). A child of a found process
// that was not found itself (the stopping rounds ran out) is killed on sight. Groups and
// sessions are not looked at again: once their members are gone, their numbers can be
// reused by processes of other commands.
func waitGone(found map[int]uint64, self procInfo, deadline time.Time) {
	for pause := time.Millisecond; ; pause = min(2*pause, 20*time.Millisecond) {
		procs := readProcs()
		starts := make(map[int]uint64, len(procs))
		for _, p := range procs {
			starts[p.pid] = p.start
		}
		ours := func(pid int) bool {
			start, ok := found[pid]
			return ok && start == starts[pid]
		}
		left := 0
		for _, p := range procs {
			switch {
			case ours(p.pid):
				if !p.zombie || p.ppid == self.pid {
					left++
				}
			case ours(p.ppid):
				found[p.pid] = p.start
				_ = unix.Kill(p.pid, unix.SIGKILL)
				left++
			}
		}
		if left == 0 || !time.Now().Before(deadline) {
			return
		}
		time.Sleep(pause)
	}
}

// marked returns whether a process holds one of marks open, for treeOf; a process is
// looked at once per (pid, start time): it can only inherit the files when it is forked.
func marked(marks []string) func(p procInfo) bool {
	if len(marks) == 0 {
		return nil
	}
	seen := map[int]uint64{}
	var buf [64]byte
	return func(p procInfo) bool {
		if start, ok := seen[p.pid]; ok && start == p.start {
			return false
		}
		seen[p.pid] = p.start
		dir := "/proc/" + strconv.Itoa(p.pid) + "/fd/"
		d, err := os.Open(dir)
		if err != nil {
			return false
		}
		names, _ := d.Readdirnames(-1)
		d.Close()
		for _, name := range names {
			n, err := unix.Readlink(dir+name, buf[:])
			if err == nil && slices.Contains(marks, string(buf[:n])) {
				return true
			}
		}
		return false
	}
}

// fdMarks are the /proc link targets of a command's stdout, stderr and terminal, as this
// process holds them (before the child sides are closed): what killTree looks for.
func fdMarks(files ...*os.File) []string {
	var out []string
	for _, f := range files {
		if f == nil {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
		if err == nil && !slices.Contains(out, target) {
			out = append(out, target)
		}
	}
	return out
}

// treeOf returns the processes of leader's command in procs: its process group and
// session, the descendants of any member, and the members of every group and session one
// of them leads. The guest itself, its session and its group are never part of it. With
// holds, orphans (children of the guest or of init, the only ones that can have lost their
// ancestry) that hold the command's files are part of it too, with their trees.
func treeOf(procs []procInfo, leader int, self procInfo, holds func(procInfo) bool) []procInfo {
	children := map[int][]int{}
	byGroup := map[int][]int{}
	bySession := map[int][]int{}
	index := make(map[int]int, len(procs))
	for i, p := range procs {
		index[p.pid] = i
		children[p.ppid] = append(children[p.ppid], i)
		byGroup[p.pgrp] = append(byGroup[p.pgrp], i)
		bySession[p.sid] = append(bySession[p.sid], i)
	}
	in := map[int]bool{}
	groups := map[int]bool{self.pgrp: true}
	sessions := map[int]bool{self.sid: true}
	var queue, out []int
	add := func(is []int) {
		for _, i := range is {
			if p := procs[i]; !in[p.pid] && p.pid != self.pid {
				in[p.pid] = true
				queue = append(queue, i)
			}
		}
	}
	joinGroup := func(g int) {
		if !groups[g] {
			groups[g] = true
			add(byGroup[g])
		}
	}
	joinSession := func(s int) {
		if !sessions[s] {
			sessions[s] = true
			add(bySession[s])
		}
	}
	if i, ok := index[leader]; ok {
		add([]int{i})
	}
	joinGroup(leader)
	joinSession(leader)
	walk := func() {
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			out = append(out, i)
			add(children[procs[i].pid])
			joinGroup(procs[i].pgrp)
			joinSession(procs[i].sid)
		}
	}
	walk()
	if holds != nil {
		for i, p := range procs {
			orphan := p.ppid == self.pid || p.ppid == 1
			if orphan && !in[p.pid] && p.pid != self.pid && !groups[p.pgrp] && !sessions[p.sid] && holds(p) {
				add([]int{i})
			}
		}
		walk()
	}
	tree := make([]procInfo, len(out))
	for k, i := range out {
		tree[k] = procs[i]
	}
	return tree
}

// readProcs lists every process this guest can see (its pid namespace, when it is PID 1).
// Processes that exit while it reads are skipped.
func readProcs() []procInfo {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	out := make([]procInfo, 0, len(names))
	buf := make([]byte, 1024)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		if p, ok := readStat(pid, buf); ok {
			out = append(out, p)
		}
	}
	return out
}

// readStat reads /proc/<pid>/stat: "pid (comm) state ppid pgrp session ... starttime ...".
func readStat(pid int, buf []byte) (procInfo, bool) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return procInfo{}, false
	}
	n, err := unix.Read(fd, buf)
	unix.Close(fd)
	if err != nil || n <= 0 {
		return procInfo{}, false
	}
	return parseStat(pid, buf[:n])
}

// parseStat parses a stat line; the command name may hold spaces and parentheses, so the
// fields are counted from its last ')'.
func parseStat(pid int, b []byte) (procInfo, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 {
		return procInfo{}, false
	}
	p := procInfo{pid: pid, zombie: f[0][0] == 'Z' || f[0][0] == 'X'}
	var errs [4]error
	p.ppid, errs[0] = strconv.Atoi(string(f[1]))
	p.pgrp, errs[1] = strconv.Atoi(string(f[2]))
	p.sid, errs[2] = strconv.Atoi(string(f[3]))
	p.start, errs[3] = strconv.ParseUint(string(f[19]), 10, 64)
	for _, err := range errs {
		if err != nil {
			return procInfo{}, false
		}
	}
	return p, true
}

// selfInfo describes the guest: never a member of a tree it kills.
func selfInfo() procInfo {
	pid := os.Getpid()
	sid, _ := unix.Getsid(pid)
	return procInfo{pid: pid, pgrp: unix.Getpgrp(), sid: sid}
}
