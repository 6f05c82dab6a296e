package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/store/postgres"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
)

// TestServeOnPostgres serves with --store postgres://...: the first admin, sandboxes, exec
// and the audit log work as on SQLite and land in Postgres; the log names the store without
// its password; when the database goes away, requests answer 503 with a public message.
func TestServeOnPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	if pg.PID == 0 {
		t.Skipf("%s names an external server, which this test must not stop", pgtest.Env)
	}
	db := pg.NewSchema(t)
	s := servertest.New(t, func(c *config.Config) { c.Store = db })
	if code, env := s.Native("POST", "/sandboxes", map[string]any{"name": "pg-box"}); code != 201 && code != 200 {
		t.Fatalf("create: %d %s", code, env.Error)
	}
	if code, env := s.Native("POST", "/sandboxes/pg-box/exec", map[string]any{"command": []string{"echo", "hi"}}); code != 200 ||
		!strings.Contains(string(env.Data), "hi") {
		t.Fatalf("exec: %d %s %s", code, env.Data, env.Error)
	}
	direct, err := postgres.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if _, err := direct.GetSandbox(context.Background(), "pg-box"); err != nil {
		t.Errorf("the sandbox is not in Postgres: %v", err)
	}
	if users, err := direct.ListUsers(context.Background()); err != nil || len(users) != 1 {
		t.Errorf("first admin in Postgres: %v %v", users, err)
	}

	u, _ := url.Parse(db)
	password, _ := u.User.Password()
	if logs := s.Logs.String(); password == "" || strings.Contains(logs, password) || !strings.Contains(logs, "xxxxx") {
		t.Errorf("the log shows the password, or does not name the store:\n%.2000s", logs)
	}

	// Deleted first: with the database gone, the test's cleanup could not list it to delete
	// its in-process guest.
	if code, env := s.Native("DELETE", "/sandboxes/pg-box", nil); code != 200 && code != 204 {
		t.Fatalf("delete: %d %s", code, env.Error)
	}
	pg.Stop(t)
	resp, body := s.Do(servertest.Request{Method: "GET", Path: "/sandboxes/pg-box"})
	if resp.StatusCode != 503 || !strings.Contains(string(body), "the database is unavailable") || strings.Contains(string(body), "127.0.0.1") {
		t.Errorf("with the database gone: %d %s; want 503 with the public message only", resp.StatusCode, body)
	}
}
