package runc_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/driver/runc"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/testenv"
)

// TestUserCgroup checks where a sandbox's processes live: the guest in the sandbox's cgroup,
// whose pids limit has the guest's headroom, and everything it starts in the "user" child,
// which holds the user's limit. Stats report the user's view, and delete removes the child
// with its parent.
func TestUserCgroup(t *testing.T) {
	e := newEnv(t)
	spec := drivertest.NewSpec(t, e.img)
	spec.Resources.Pids = 50
	e.runSpec(t, spec)
	ctx := context.Background()

	pidsDir, v2 := "", false
	for _, m := range mountinfo(t) {
		dir := filepath.Join(m.point, "paddock", spec.ID)
		if _, err := os.Stat(filepath.Join(dir, "user", "pids.max")); err == nil {
			pidsDir, v2 = dir, m.fstype == "cgroup2"
		}
	}
	if pidsDir == "" {
		t.Fatalf("no user cgroup with a pids limit under any cgroup mount")
	}
	for file, want := range map[string]string{"user/pids.max": "51", "pids.max": "306"} {
		if b, err := os.ReadFile(filepath.Join(pidsDir, file)); err != nil || strings.TrimSpace(string(b)) != want {
			t.Errorf("%s = %q, %v; want %s", file, b, err, want)
		}
	}

	want := []string{":pids:/user\n", ":cpu:/user\n"}
	if v2 {
		want = []string{"0::/user\n"}
	}
	checkPlacement(t, e, spec.ID, want)

	st, err := e.d.Stats(ctx, spec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.PidsLimit != 50 || st.Pids > 2 {
		t.Errorf("stats: pids %d of %d; want the user's view, at most 2 of 50", st.Pids, st.PidsLimit)
	}
	if err := e.d.Delete(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	noLeftovers(t, e, []string{spec.ID})
}

// TestUserCgroupThreaded runs a sandbox with the cgroup v2 user cgroup on this host's cgroup2
// mount: the guest's spawning thread joins the threaded child, its children start there, and
// the sandbox works and is removed as usual. On a hybrid host (cgroup v1 controllers) the
// child gets no pids limit: that part is TestUserCgroup's on a cgroup v2 host.
func TestUserCgroupThreaded(t *testing.T) {
	e := newEnv(t)
	if !runc.UseUnifiedUserCgroups(e.d) {
		testenv.Require(t, "cgroup-v2", "no cgroup2 filesystem mounted")
	}
	spec := drivertest.NewSpec(t, e.img)
	spec.Resources.Pids = 50
	e.runSpec(t, spec)
	checkPlacement(t, e, spec.ID, []string{"0::/user\n"})
	for _, m := range mountinfo(t) {
		if m.fstype == "cgroup2" {
			b, err := os.ReadFile(filepath.Join(m.point, "paddock", spec.ID, "user", "cgroup.type"))
			if err != nil || strings.TrimSpace(string(b)) != "threaded" {
				t.Errorf("user cgroup type %q, %v; want threaded", b, err)
			}
		}
	}
	if _, err := e.d.Stats(context.Background(), spec.ID); err != nil {
		t.Error(err)
	}
	if err := e.d.Delete(context.Background(), spec.ID); err != nil {
		t.Fatal(err)
	}
	noLeftovers(t, e, []string{spec.ID})
}

// checkPlacement checks that a process the guest starts has each of want among its cgroups
// and that the guest (PID 1) has none of them.
func checkPlacement(t *testing.T, e *env, id string, want []string) {
	t.Helper()
	c := guestclient.New(func(ctx context.Context) (net.Conn, error) { return e.d.Dial(ctx, id) }, "")
	defer c.Close()
	out := run(t, c, "cat /proc/self/cgroup; echo guest; cat /proc/1/cgroup")
	user, guest, _ := strings.Cut(out, "guest\n")
	for _, w := range want {
		if !strings.Contains(user, w) {
			t.Errorf("a process's cgroups lack %q:\n%s", w, user)
		}
	}
	if strings.Contains(guest, "/user") {
		t.Errorf("the guest is in the user cgroup:\n%s", guest)
	}
}

// run runs a shell script through the guest and returns its stdout.
func run(t *testing.T, c *guestclient.Client, script string) string {
	t.Helper()
	p, err := c.Start(context.Background(), guestclient.Command{Args: []string{"/bin/sh", "-c", script}})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for {
		o, end, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		if end != nil {
			if end.ExitCode != 0 {
				t.Fatalf("%q: exit %d", script, end.ExitCode)
			}
			return out.String()
		}
		out.Write(o.Data)
	}
}
