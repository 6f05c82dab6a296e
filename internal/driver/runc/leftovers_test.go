package runc_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// leftovers lists what the driver's sandboxes ids left behind: mounts under the state dir,
// loop devices attached to files there, containers in the runtime root, entries in the state
// dir and cgroup directories named after an ID, in any hierarchy (v1 or v2) mounted on this
// host.
func (e *env) leftovers(t *testing.T, ids []string) []string {
	t.Helper()
	var out []string
	mounts := mountinfo(t)
	for _, m := range mounts {
		if m.point == e.stateDir || strings.HasPrefix(m.point, e.stateDir+"/") {
			out = append(out, "mount "+m.point)
		}
	}
	out = append(out, loopsUnder(t, e.stateDir)...)
	list, err := exec.Command("runc", "--root", e.runtimeRoot, "list", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("runc list: %v: %s", err, list)
	}
	for _, id := range strings.Fields(string(list)) {
		out = append(out, "container "+id)
	}
	entries, err := os.ReadDir(e.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		out = append(out, "state "+en.Name())
	}
	for _, m := range mounts {
		if m.fstype != "cgroup" && m.fstype != "cgroup2" {
			continue
		}
		for _, id := range ids {
			dir := filepath.Join(m.point, "paddock", id)
			if _, err := os.Lstat(dir); err == nil {
				out = append(out, "cgroup "+dir)
			}
		}
	}
	return out
}

type mount struct{ point, fstype string }

// mountinfo reads this process's mount table.
func mountinfo(t *testing.T) []mount {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root point options [optional...] - fstype source super
		fields := strings.Fields(sc.Text())
		for i := 5; i+1 < len(fields); i++ {
			if fields[i] == "-" {
				out = append(out, mount{point: unescape(fields[4]), fstype: fields[i+1]})
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// unescape decodes mountinfo's octal escapes (\040 is a space).
func unescape(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

func noLeftovers(t *testing.T, e *env, ids []string) {
	t.Helper()
	if left := e.leftovers(t, ids); len(left) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	}
}

// loopsUnder lists the loop devices whose backing file is (or was, before its deletion) under
// dir.
func loopsUnder(t testing.TB, dir string) []string {
	t.Helper()
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	files, err := filepath.Glob("/sys/block/loop*/loop/backing_file")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // detached meanwhile
		}
		if back := strings.TrimSpace(string(b)); strings.HasPrefix(back, dir+"/") {
			out = append(out, "loop device "+filepath.Base(filepath.Dir(filepath.Dir(f)))+" on "+back)
		}
	}
	return out
}
