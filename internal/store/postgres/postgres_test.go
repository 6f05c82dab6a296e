package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/credential"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/fleet"
	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/manager/quotatest"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/schedule"
	"github.com/paddock/paddock/internal/sshgate"
	"github.com/paddock/paddock/internal/store/postgres"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
	"github.com/paddock/paddock/internal/store/storetest"
)

func open(t *testing.T, rawURL string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), rawURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStore runs every conformance suite the SQLite store runs, on one throwaway server
// with a fresh schema (search_path) per case.
func TestStore(t *testing.T) {
	srv := pgtest.Start(t)
	fresh := func(t *testing.T) *postgres.Store { return open(t, srv.NewSchema(t)) }
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) sandbox.Store { return fresh(t) })
	})
	t.Run("Activity", func(t *testing.T) {
		storetest.RunActivity(t, func(t *testing.T) storetest.ActivityStore { return fresh(t) })
	})
	t.Run("Accounts", func(t *testing.T) {
		storetest.RunAccounts(t, func(t *testing.T) account.Store { return fresh(t) })
	})
	t.Run("Lifecycle", func(t *testing.T) {
		storetest.RunLifecycle(t, func(t *testing.T) lifecycle.Store { return fresh(t) })
	})
	t.Run("Agents", func(t *testing.T) {
		storetest.RunAgents(t, func(t *testing.T) agentrun.Store { return fresh(t) })
	})
	t.Run("Runs", func(t *testing.T) { storetest.RunRuns(t, fresh(t)) })
	t.Run("Events", func(t *testing.T) { storetest.RunEvents(t, fresh(t)) })
	t.Run("Fleet", func(t *testing.T) {
		storetest.RunFleet(t, func(t *testing.T) fleet.Store { return fresh(t) })
	})
	t.Run("Schedules", func(t *testing.T) {
		storetest.RunSchedules(t, func(t *testing.T) schedule.Store { return fresh(t) })
	})
	t.Run("Credentials", func(t *testing.T) {
		storetest.RunCredentials(t, func(t *testing.T) credential.Store { return fresh(t) })
	})
	t.Run("SSHGrants", func(t *testing.T) {
		storetest.RunSSHGrants(t, func(t *testing.T) sshgate.Store { return fresh(t) })
	})
	t.Run("QuotaLedger", func(t *testing.T) {
		quotatest.Run(t, func(t *testing.T) manager.QuotaLedger { return fresh(t).Quotas() })
		t.Run("Prune", func(t *testing.T) { testQuotaPrune(t, fresh(t)) })
	})
	t.Run("Warm", func(t *testing.T) {
		storetest.RunWarm(t, func(t *testing.T) manager.WarmStore { return fresh(t) })
	})
	t.Run("TwoStoresShareADatabase", func(t *testing.T) { testTwoStores(t, srv.NewSchema(t)) })
	t.Run("ConcurrentOpen", func(t *testing.T) { testConcurrentOpen(t, srv.NewSchema(t)) })
	t.Run("ReopenKeepsData", func(t *testing.T) { testReopen(t, srv.NewSchema(t)) })
	t.Run("Unreachable", func(t *testing.T) { testUnreachable(t, srv.NewSchema(t)) })
	t.Run("DatabaseGoes", testDatabaseGoes)
	t.Run("Reconnects", func(t *testing.T) { testReconnects(t, srv.NewSchema(t)) })
}

// testReconnects ends every server connection of a store (as a database restart or a
// failover does): calls that meet a dead connection fail as unavailable, each such
// connection is dropped, and the store then works again on new ones.
func testReconnects(t *testing.T, db string) {
	ctx := context.Background()
	s := open(t, db)
	if err := s.CreateSandbox(ctx, rec("i1", "one")); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	// The pool holds at most max(4, CPUs) connections, so that many calls can fail.
	for i := range 4*runtime.NumCPU() + 1 {
		_, err := s.GetSandbox(ctx, "one")
		if err == nil {
			t.Logf("%d calls failed before the store reconnected", i)
			return
		}
		if !errors.Is(err, errdefs.ErrUnavailable) {
			t.Fatalf("call %d on a dead connection: %v, want unavailable", i, err)
		}
	}
	t.Fatal("the store did not reconnect")
}

// testDatabaseGoes stops the server under an open store: every call fails as unavailable
// (503 at the API, with a public message that names nothing internal), not as an internal
// error.
func testDatabaseGoes(t *testing.T) {
	srv := pgtest.Start(t)
	if srv.PID == 0 {
		t.Skipf("%s names an external server, which this test must not stop", pgtest.Env)
	}
	s := open(t, srv.NewSchema(t))
	ctx := context.Background()
	if err := s.CreateSandbox(ctx, rec("i1", "one")); err != nil {
		t.Fatal(err)
	}
	srv.Stop(t)
	_, getErr := s.GetSandbox(ctx, "one")
	_, listErr := s.ListEvents(ctx, audit.Filter{})
	_, userErr := s.GetUser(ctx, "u1")
	for name, err := range map[string]error{
		"create": s.CreateSandbox(ctx, rec("i2", "two")), "get": getErr, "list events": listErr, "get user": userErr,
		"touch keys": s.TouchKeys(ctx, map[string]time.Time{"k": time.Now()}),
	} {
		msg, _ := errdefs.PublicMessage(err)
		if !errors.Is(err, errdefs.ErrUnavailable) || msg != "the database is unavailable" {
			t.Errorf("%s with the database gone: %v (public %q), want unavailable", name, err, msg)
		}
	}
}

func rec(id, name string) *sandbox.Sandbox {
	at := time.Date(2025, 1, 2, 3, 4, 5, 678912000, time.UTC)
	return &sandbox.Sandbox{ID: id, Name: name, State: sandbox.StateRunning, CreatedAt: at, UpdatedAt: at,
		Spec: sandbox.Spec{Name: name, Env: map[string]string{"K": "v"}}}
}

// testTwoStores opens one database from two pools, as two replicas would, and checks that
// each sees the other's writes at once.
func testTwoStores(t *testing.T, db string) {
	ctx := context.Background()
	a, b := open(t, db), open(t, db)
	if err := a.CreateSandbox(ctx, rec("i1", "one")); err != nil {
		t.Fatal(err)
	}
	if got, err := b.GetSandbox(ctx, "one"); err != nil || got.ID != "i1" {
		t.Fatalf("b reads a's create: %+v %v", got, err)
	}
	up := rec("i1", "one")
	up.State = sandbox.StateStopped
	if err := b.UpdateSandbox(ctx, up); err != nil {
		t.Fatal(err)
	}
	if got, err := a.GetSandbox(ctx, "i1"); err != nil || got.State != sandbox.StateStopped {
		t.Fatalf("a reads b's update: %+v %v", got, err)
	}
	if err := a.CreateSandbox(ctx, rec("i2", "one")); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("a reuses a name b holds: %v", err)
	}
	if err := b.DeleteSandbox(ctx, "i1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetSandbox(ctx, "i1"); !errdefs.IsNotFound(err) {
		t.Errorf("a reads b's delete: %v", err)
	}
}

// testConcurrentOpen has four pools (four replicas starting at once) migrate one fresh
// database: every Open succeeds and each migration is recorded once.
func testConcurrentOpen(t *testing.T, db string) {
	const n = 4
	stores := make([]*postgres.Store, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(context.Background(), db)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	for i, s := range stores {
		if err := s.CreateSandbox(context.Background(), rec(string(rune('a'+i)), string(rune('a'+i)))); err != nil {
			t.Errorf("create through store %d: %v", i, err)
		}
	}
	if got := postgres.AppliedVersions(t, stores[0]); !reflect.DeepEqual(got, postgres.KnownVersions()) {
		t.Errorf("schema_migrations holds %v, want each of %v once", got, postgres.KnownVersions())
	}
}

func testReopen(t *testing.T, db string) {
	ctx := context.Background()
	a := open(t, db)
	want := rec("i1", "one")
	if err := a.CreateSandbox(ctx, want); err != nil {
		t.Fatal(err)
	}
	a.Close()
	got, err := open(t, db).GetSandbox(ctx, "one")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopening: %+v %v, want %+v", got, err, want)
	}
}

// testUnreachable opens a store on a port nothing listens on, and on a database that does
// not exist: each fails with a message naming where, never the password.
func testUnreachable(t *testing.T, db string) {
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	closed := *u
	closed.Host = "127.0.0.1:1"
	missing := *u
	missing.Path = "/no_such_database"
	for name, c := range map[string]struct {
		url   string
		class error
	}{
		"closed port":      {closed.String(), errdefs.ErrUnavailable},
		"missing database": {missing.String(), errdefs.ErrUnavailable},
		"bad URL":          {"postgres://paddock:" + password + "@127.0.0.1:notaport/x", errdefs.ErrInvalidArgument},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := postgres.Open(ctx, c.url)
			if err == nil {
				s.Close()
				t.Fatal("open succeeded")
			}
			if !errors.Is(err, c.class) {
				t.Errorf("error %q is not of class %v", err, c.class)
			}
			if password == "" || strings.Contains(err.Error(), password) {
				t.Errorf("the message shows the password (or the test has none): %q", err)
			}
			t.Logf("%v", err)
		})
	}
}
