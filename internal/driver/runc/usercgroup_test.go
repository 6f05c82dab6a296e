package runc_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/guestclient"
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

	pidsDir := ""
	for _, m := range mountinfo(t) {
		dir := filepath.Join(m.point, "paddock", spec.ID)
		if _, err := os.Stat(filepath.Join(dir, "user", "pids.max")); err == nil {
			pidsDir = dir
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

	c := guestclient.New(func(ctx context.Context) (net.Conn, error) { return e.d.Dial(ctx, spec.ID) }, "")
	defer c.Close()
	out := run(t, c, "cat /proc/self/cgroup; echo guest; cat /proc/1/cgroup")
	user, guest, _ := strings.Cut(out, "guest\n")
	for _, want := range []string{":pids:/user\n", ":cpu:/user\n"} {
		if !strings.Contains(user, want) {
			t.Errorf("a process's cgroups lack %q:\n%s", want, user)
		}
	}
	if strings.Contains(guest, "/user") {
		t.Errorf("the guest is in the user cgroup:\n%s", guest)
	}

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
			if end.Code() != 0 {
				t.Fatalf("%q: exit %d", script, end.Code())
			}
			return out.String()
		}
		out.Write(o.Data)
	}
}
