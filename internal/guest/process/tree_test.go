package process

import (
	"slices"
	"testing"
)

func TestParseStat(t *testing.T) {
	cases := []struct {
		line string
		want procInfo
		ok   bool
	}{
		{"42 (sleep) S 7 42 42 0 -1 4194304 91 0 0 0 0 0 0 0 20 0 1 0 123456 1 2 3", procInfo{42, 7, 42, 42, 123456, false}, true},
		{"42 (a b) (c)) Z 1 9 8 0 -1 4194304 91 0 0 0 0 0 0 0 20 0 1 0 99 1 2 3", procInfo{42, 1, 9, 8, 99, true}, true},
		{"42 (x) S 1 2", procInfo{}, false},
		{"42 no parenthesis", procInfo{}, false},
		{"42 (x) S one 2 3 0 -1 4194304 91 0 0 0 0 0 0 0 20 0 1 0 99 1", procInfo{}, false},
	}
	for _, c := range cases {
		got, ok := parseStat(42, []byte(c.line))
		if ok != c.ok || got != c.want {
			t.Errorf("parseStat(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

// TestTreeOf checks what belongs to a command's tree, on a process table where the guest
// (pid 1, session and group 1) runs two commands, 10 and 20, each leading its own session.
func TestTreeOf(t *testing.T) {
	self := procInfo{pid: 1, pgrp: 1, sid: 1}
	procs := []procInfo{
		{pid: 1, ppid: 0, pgrp: 1, sid: 1},
		{pid: 10, ppid: 1, pgrp: 10, sid: 10},  // command A
		{pid: 11, ppid: 10, pgrp: 10, sid: 10}, // its child, in its group
		{pid: 12, ppid: 1, pgrp: 10, sid: 10},  // an orphan of A's group
		{pid: 13, ppid: 10, pgrp: 13, sid: 10}, // a group of its own in A's session
		{pid: 14, ppid: 1, pgrp: 13, sid: 10},  // an orphan of that group
		{pid: 15, ppid: 11, pgrp: 15, sid: 15}, // a new session, forked from A's tree
		{pid: 16, ppid: 15, pgrp: 16, sid: 16}, // a session of its own again, by ancestry
		{pid: 17, ppid: 1, pgrp: 15, sid: 15},  // an orphan of session 15
		{pid: 18, ppid: 1, pgrp: 18, sid: 18},  // a double-forked daemon whose parent is gone
		{pid: 20, ppid: 1, pgrp: 20, sid: 20},  // command B
		{pid: 21, ppid: 20, pgrp: 20, sid: 20},
		{pid: 30, ppid: 1, pgrp: 1, sid: 1}, // in the guest's own session and group
	}
	pids := func(ps []procInfo) []int {
		var out []int
		for _, p := range ps {
			out = append(out, p.pid)
		}
		slices.Sort(out)
		return out
	}
	if got, want := pids(treeOf(procs, 10, self, nil)), []int{10, 11, 12, 13, 14, 15, 16, 17}; !slices.Equal(got, want) {
		t.Errorf("tree of A = %v, want %v", got, want)
	}
	if got, want := pids(treeOf(procs, 20, self, nil)), []int{20, 21}; !slices.Equal(got, want) {
		t.Errorf("tree of B = %v, want %v", got, want)
	}
	// A leader that is gone leaves its group and session, never the guest's.
	if got, want := pids(treeOf(procs[2:], 10, self, nil)), []int{11, 12, 13, 14, 15, 16, 17}; !slices.Equal(got, want) {
		t.Errorf("tree of A without its leader = %v, want %v", got, want)
	}
	if got := treeOf(procs, 1, self, nil); len(got) != 0 {
		t.Errorf("tree of the guest = %v, want nothing", pids(got))
	}
	// An orphan holding A's files (the daemon 18) is A's, with what it forked; the guest and
	// its session are never looked at.
	orphan := append(slices.Clone(procs), procInfo{pid: 19, ppid: 18, pgrp: 19, sid: 19})
	var asked []int
	holds := func(p procInfo) bool { asked = append(asked, p.pid); return p.pid == 18 || p.pid == 30 }
	if got, want := pids(treeOf(orphan, 10, self, holds)), []int{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}; !slices.Equal(got, want) {
		t.Errorf("tree of A with its files = %v, want %v", got, want)
	}
	if slices.Contains(asked, 1) || slices.Contains(asked, 30) || slices.Contains(asked, 19) {
		t.Errorf("asked about %v: want only orphans outside the guest's session", asked)
	}
}
