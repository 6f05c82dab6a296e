package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
	"github.com/paddock/paddock/internal/testenv"
)

// replica is one server process of the test's cluster.
type replica struct {
	*servertest.Process
	c *client.Client
}

// cluster builds fakeserve once and starts n replicas of it on one Postgres schema, sharing
// one fake driver directory. The harness takes a binary and its arguments, so that another
// driver's server (`paddock serve --driver kube ...`) can be started the same way.
func cluster(t *testing.T, n int, args ...string) ([]*replica, string) {
	t.Helper()
	db := pgtest.Start(t).NewSchema(t)
	bin := filepath.Join(testenv.TempDir(t), "fakeserve")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build fakeserve: %v\n%s", err, out)
	}
	// Short: it holds the guests' unix sockets.
	fakeDir, err := os.MkdirTemp("", "fk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(fakeDir) })
	rs := make([]*replica, n)
	for i := range rs {
		addr := servertest.FreeAddr(t)
		p := servertest.StartProcess(t, addr, bin, append([]string{"--listen", addr, "--store", db,
			"--data-dir", testenv.TempDir(t), "--fake-dir", fakeDir, "--reap-interval", "100ms"}, args...)...)
		rs[i] = &replica{Process: p, c: client.New(p.URL, servertest.Key)}
	}
	return rs, fakeDir
}

// liveUnits lists the units of the shared fake driver directory whose guest answers (a
// killed replica's units leave their sockets behind, dead).
func liveUnits(t *testing.T, dir string) []string {
	t.Helper()
	socks, err := filepath.Glob(filepath.Join(dir, "*.sock"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range socks {
		if c, err := net.DialTimeout("unix", s, time.Second); err == nil {
			_ = c.Close()
			out = append(out, strings.TrimSuffix(filepath.Base(s), ".sock"))
		}
	}
	return out
}

// waitUnits waits (20 s at most) until n units of dir answer, and stay so for a second.
func waitUnits(t *testing.T, dir string, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if len(liveUnits(t, dir)) == n {
			time.Sleep(time.Second) // long enough for a second filler to show itself
			if got := liveUnits(t, dir); len(got) == n {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d live units, want %d", what, len(liveUnits(t, dir)), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTwoReplicas runs two fakeserve processes on one database: a warm pool of 2 filled
// once for the cluster and claimed through the follower, creates of one name from both at
// once (one wins, the other 409), one user's creates through both at once (exactly their
// quota succeeds, the rest 429), a sandbox made through one operated (exec, files, delete)
// through the other, an expiring sandbox reaped exactly once, and after the leader is
// killed with SIGKILL the other reaps in its place and refills the pool.
func TestTwoReplicas(t *testing.T) {
	const poolSize = 2
	rs, fakeDir := cluster(t, 2, "--pool-size", fmt.Sprint(poolSize))
	ctx := context.Background()

	t.Run("pool filled once", func(t *testing.T) {
		waitUnits(t, fakeDir, poolSize, "the cluster's warm pool")
		li := servertest.LeaderOf(t, rs[0].Process, rs[1].Process)
		follow := rs[1-li]
		warm := liveUnits(t, fakeDir)
		sb, err := follow.c.CreateSandbox(ctx, apitype.CreateRequest{Name: "warm1", Template: "base"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(warm, sb.ID) {
			t.Fatalf("the follower made %s, not one of the leader's warm units %v", sb.ID, warm)
		}
		res, err := follow.c.Exec(ctx, "warm1", apitype.ExecRequest{Command: []string{"echo", "hi"}})
		if err != nil || strings.TrimSpace(res.Stdout) != "hi" {
			t.Fatalf("exec in the claimed sandbox: %+v, %v", res, err)
		}
		waitUnits(t, fakeDir, poolSize+1, "the pool refilled after the claim")
		if err := follow.c.DeleteSandbox(ctx, "warm1"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("create race", func(t *testing.T) {
		clients := make([]*client.Client, len(rs))
		for i, r := range rs {
			clients[i] = r.c
		}
		servertest.CreateRace(t, ctx, clients, 5)
	})

	t.Run("quota race", func(t *testing.T) { quotaRace(t, ctx, rs) })

	t.Run("operate through the other", func(t *testing.T) {
		if _, err := rs[0].c.CreateSandbox(ctx, apitype.CreateRequest{Name: "across"}); err != nil {
			t.Fatal(err)
		}
		res, err := rs[1].c.Exec(ctx, "across", apitype.ExecRequest{Command: []string{"echo", "hi"}})
		if err != nil || strings.TrimSpace(res.Stdout) != "hi" {
			t.Fatalf("exec through the other replica: %+v, %v", res, err)
		}
		if err := rs[1].c.WriteFile(ctx, "across", "/tmp/paddock-replicas-f", []byte("from two")); err != nil {
			t.Fatal(err)
		}
		if b, err := rs[0].c.ReadFile(ctx, "across", "/tmp/paddock-replicas-f"); err != nil || string(b) != "from two" {
			t.Fatalf("a file written through one replica, read through the other: %q, %v", b, err)
		}
		_ = rs[1].c.DeleteFile(ctx, "across", "/tmp/paddock-replicas-f")
		if err := rs[1].c.DeleteSandbox(ctx, "across"); err != nil {
			t.Fatalf("delete through the other replica: %v", err)
		}
		if _, err := rs[0].c.GetSandbox(ctx, "across"); servertest.Status(err) != http.StatusNotFound {
			t.Fatalf("get through the maker after the delete: %v, want 404", err)
		}
	})

	removed := func(t *testing.T, c *client.Client, name string) int {
		t.Helper()
		evs, err := c.Events(ctx, url.Values{"sandbox": {name}, "type": {"sandbox_removed"}})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}

	t.Run("reaped once", func(t *testing.T) {
		for i, r := range rs {
			name := "ttl" + string(rune('a'+i))
			if _, err := r.c.CreateSandbox(ctx, apitype.CreateRequest{Name: name, TTL: "1s"}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range rs {
			name := "ttl" + string(rune('a'+i))
			servertest.WaitGone(t, rs[1-i].c, name, 20*time.Second)
			// Give a second reaper (there should be none) time to act on a stale listing.
			time.Sleep(300 * time.Millisecond)
			if n := removed(t, rs[i].c, name); n != 1 {
				t.Fatalf("%s removed %d times, want once", name, n)
			}
		}
	})

	t.Run("failover", func(t *testing.T) {
		li := servertest.LeaderOf(t, rs[0].Process, rs[1].Process)
		lead, follow := rs[li], rs[1-li]
		if _, err := follow.c.CreateSandbox(ctx, apitype.CreateRequest{Name: "after", TTL: "2s"}); err != nil {
			t.Fatal(err)
		}
		killed := servertest.KillLeader(t, lead.Process, follow.Process)
		servertest.WaitGone(t, follow.c, "after", 20*time.Second)
		t.Logf("it reaped a sandbox that expired 2 s after its creation %v after the kill", time.Since(killed))
		if n := removed(t, follow.c, "after"); n != 1 {
			t.Fatalf("after removed %d times, want once", n)
		}
		// The dead leader's warm units died with it (fake units live in their process): the
		// survivor drops their rows and makes the pool anew.
		waitUnits(t, fakeDir, poolSize, "the survivor's pool")
		t.Logf("the survivor refilled the pool %v after the kill", time.Since(killed))
	})
}

// quotaRace gives a user a quota of 3 sandboxes and races 10 of their creates through both
// replicas: exactly 3 succeed, the others are 429 naming the limit, and both replicas
// report the same use.
func quotaRace(t *testing.T, ctx context.Context, rs []*replica) {
	const email, quota, tries = "quota@example.com", 3, 10
	admin := rs[0].c
	if _, err := admin.CreateUser(ctx, client.CreateUserRequest{Email: email, Role: "user"}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateKey(ctx, email, client.CreateKeyRequest{Name: "race"})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, rs[1].URL+"/users/"+url.PathEscape(email)+"/quota",
		strings.NewReader(fmt.Sprintf(`{"sandboxes": %d}`, quota)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-API-Key", servertest.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("set the quota: HTTP %d", resp.StatusCode)
	}
	users := make([]*client.Client, len(rs))
	for i, r := range rs {
		users[i] = client.New(r.URL, key.Key)
	}
	errs := make([]error, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() {
			_, errs[i] = users[i%len(users)].CreateSandbox(ctx, apitype.CreateRequest{Name: fmt.Sprintf("quota%d", i)})
		})
	}
	wg.Wait()
	made := 0
	for i, err := range errs {
		var ce *client.Error
		switch {
		case err == nil:
			made++
			t.Cleanup(func() { _ = admin.DeleteSandbox(context.WithoutCancel(ctx), fmt.Sprintf("quota%d", i)) })
		case errors.As(err, &ce) && ce.Status == http.StatusTooManyRequests &&
			strings.HasPrefix(ce.Message, fmt.Sprintf("quota exceeded: at most %d running sandboxes", quota)):
		default:
			t.Errorf("create %d through replica %d: %v, want success or 429 naming the quota", i, i%len(users), err)
		}
	}
	if made != quota {
		t.Fatalf("%d of %d creates through both replicas succeeded, want the quota, %d", made, tries, quota)
	}
	for i, u := range users {
		me, err := u.Me(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if me.Usage == nil || me.Usage.Sandboxes != quota || me.Usage.CreatesLastMinute != quota {
			t.Errorf("GET /me through replica %d: usage %+v, want %d sandboxes and creations", i, me.Usage, quota)
		}
	}
}
