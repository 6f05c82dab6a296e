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
