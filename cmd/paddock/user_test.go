package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/server/servertest"
)

// TestUserAndKeyCLI drives paddock user and paddock key against a server on the fake
// driver (no root): an admin adds a user with a password, makes them a key, and the user
// manages their own keys and password with it.
func TestUserAndKeyCLI(t *testing.T) {
	s := servertest.New(t)
	admin := []string{"PADDOCK_HOST=" + s.URL, "PADDOCK_API_KEY=" + servertest.Key}
	run := func(env []string, stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := cli(t, env, stdin, args...)
		if code != 0 {
			t.Fatalf("paddock %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	out := run(admin, "carol-password\n", "user", "add", "carol@example.com", "--name", "Carol", "--password")
	for _, want := range []string{"EMAIL", "carol@example.com", "Carol", "user", "active", "yes"} {
		if !strings.Contains(out, want) {
			t.Errorf("user add lacks %q:\n%s", want, out)
		}
	}
	var users []map[string]any
	if err := json.Unmarshal([]byte(run(admin, "", "user", "ls", "--json")), &users); err != nil || len(users) != 2 {
		t.Fatalf("user ls --json: %v %v", users, err)
	}
	key := strings.TrimSpace(run(admin, "", "key", "create", "--user", "carol@example.com", "--name", "ci"))
	if !strings.HasPrefix(key, "e2b_") || len(key) != 44 {
		t.Fatalf("key create printed %q", key)
	}
	carol := []string{"PADDOCK_HOST=" + s.URL, "PADDOCK_API_KEY=" + key}
	if _, errOut, code := cli(t, carol, "", "user", "ls"); code == 0 || !strings.Contains(errOut, "403") {
		t.Errorf("carol listing users: %d %s", code, errOut)
	}
	run(carol, "", "key", "create", "--name", "mine", "--expires", "24h")
	out = run(carol, "", "key", "ls")
	if !strings.Contains(out, "LAST USED") || !strings.Contains(out, "ci") || !strings.Contains(out, "mine") || strings.Contains(out, key) {
		t.Errorf("key ls:\n%s", out)
	}
	run(carol, "carol-password\nnew-carol-password\n", "user", "passwd")
	run(admin, "admin-set-password\n", "user", "passwd", "carol@example.com")
	var keys []struct{ ID, Name string }
	json.Unmarshal([]byte(run(carol, "", "key", "ls", "--json")), &keys)
	if len(keys) != 2 {
		t.Fatalf("key ls --json: %+v", keys)
	}
	run(carol, "", "key", "revoke", keys[1].ID)
	run(admin, "", "user", "rm", "carol@example.com")
	if _, errOut, code := cli(t, carol, "", "key", "ls"); code == 0 || !strings.Contains(errOut, "401") {
		t.Errorf("a removed user's key: %d %s", code, errOut)
	}
	if _, errOut, code := cli(t, admin, "", "user", "rm", "admin@localhost"); code == 0 || !strings.Contains(errOut, "last enabled admin") {
		t.Errorf("removing the last admin: %d %s", code, errOut)
	}
}
