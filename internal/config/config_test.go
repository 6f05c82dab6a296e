package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func load(t *testing.T, file string, args ...string) (Config, error) {
	t.Helper()
	c := Default()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	path := ""
	if file != "" {
		path = filepath.Join(t.TempDir(), "paddock.json")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err := c.Load(path, fs)
	return c, err
}

// TestNoAuthIsFlagOnly: authentication goes off only with an explicit --no-auth; the
// environment variable and the config file key are refused with what to do instead.
func TestNoAuthIsFlagOnly(t *testing.T) {
	if c, err := load(t, "", "--no-auth"); err != nil || !c.NoAuth {
		t.Errorf("--no-auth: NoAuth=%v, %v", c.NoAuth, err)
	}
	if c, err := load(t, `{"pool_size": 3}`); err != nil || c.NoAuth || c.PoolSize != 3 {
		t.Errorf("a config file without no_auth: %+v, %v", c, err)
	}
	for _, file := range []string{`{"no_auth": true}`, `{"no_auth": false, "pool_size": 1}`} {
		c, err := load(t, file)
		if err == nil || !strings.Contains(err.Error(), "--no-auth") || c.NoAuth {
			t.Errorf("config file %s: NoAuth=%v, err %v; want an error naming --no-auth", file, c.NoAuth, err)
		}
	}
	for _, v := range []string{"1", "true", "false"} {
		t.Setenv("PADDOCK_NO_AUTH", v)
		c, err := load(t, "")
		if err == nil || !strings.Contains(err.Error(), "PADDOCK_NO_AUTH") || !strings.Contains(err.Error(), "--no-auth") || c.NoAuth {
			t.Errorf("PADDOCK_NO_AUTH=%s: NoAuth=%v, err %v; want an error naming the variable and --no-auth", v, c.NoAuth, err)
		}
	}
	os.Unsetenv("PADDOCK_NO_AUTH")
	t.Setenv("PADDOCK_POOL_SIZE", "7") // other settings still come from the environment
	if c, err := load(t, ""); err != nil || c.PoolSize != 7 || c.NoAuth {
		t.Errorf("PADDOCK_POOL_SIZE: %+v, %v", c, err)
	}
	if d := Describe(); !strings.Contains(d, "--no-auth") || strings.Contains(d, "PADDOCK_NO_AUTH") {
		t.Errorf("Describe offers an environment variable for no-auth:\n%s", d)
	}
}

// TestStoreSetting: --store and PADDOCK_STORE select the store; anything but SQLite's
// default or a postgres:// URL is refused without quoting it (it may hold a password).
func TestStoreSetting(t *testing.T) {
	if c, err := load(t, ""); err != nil || c.Store != "" || c.Validate() != nil {
		t.Errorf("default: %q %v", c.Store, err)
	}
	pg := "postgres://paddock:s3cret@db.example:5432/paddock"
	if c, err := load(t, "", "--store", pg); err != nil || c.Store != pg || c.Validate() != nil {
		t.Errorf("--store: %q %v %v", c.Store, err, c.Validate())
	}
	t.Setenv("PADDOCK_STORE", "postgresql://db.example/paddock")
	if c, err := load(t, ""); err != nil || c.Store != "postgresql://db.example/paddock" || c.Validate() != nil {
		t.Errorf("PADDOCK_STORE: %q %v", c.Store, err)
	}
	for _, bad := range []string{"mysql://u:s3cret@h/db", "postgres:/u:s3cret@h/db", "/var/lib/paddock/paddock.db"} {
		c, err := load(t, "", "--store", bad)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "postgres://") {
			t.Errorf("--store %s: %v; want an error that says what to use and does not quote the value", bad, err)
		}
	}
}

// TestSSHGateway: the gateway is off by default, on with --ssh-listen or PADDOCK_SSH_LISTEN,
// and a malformed address fails Validate naming the setting.
func TestSSHGateway(t *testing.T) {
	if c, err := load(t, ""); err != nil || c.SSHListen != "" || c.Validate() != nil {
		t.Errorf("default: %q %v", c.SSHListen, err)
	}
	t.Setenv("PADDOCK_SSH_LISTEN", "127.0.0.1:18822")
	if c, err := load(t, ""); err != nil || c.SSHListen != "127.0.0.1:18822" || c.Validate() != nil {
		t.Errorf("PADDOCK_SSH_LISTEN: %q %v", c.SSHListen, err)
	}
	for _, args := range [][]string{{"--ssh-listen", "18822"}, {"--ssh-public-addr", "example.com"}} {
		c, err := load(t, "", args...)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(args[0], "--")) {
			t.Errorf("%v: %v, want an error naming the setting", args, err)
		}
	}
}
