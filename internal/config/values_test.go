package config

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/image"
)

// TestTypedSettings: lists, resolvers, registries and the log level arrive parsed, from
// flags, the environment and the file alike, and a flag still wins over the environment.
func TestTypedSettings(t *testing.T) {
	t.Setenv("PADDOCK_REGISTRY_INSECURE", "reg.internal:5000")
	t.Setenv("PADDOCK_EGRESS_DNS", "192.0.2.1") // the flag wins
	t.Setenv("PADDOCK_REGISTRY_MIRRORS", "ghcr.io=env.example.com")
	c, err := load(t, `{"pool_prewarm": ["python", "bash"], "shutdown_timeout": "45s", "audit_retention": 7200000000000, "pool_size": 3}`,
		"--egress-dns", "192.0.2.53, [2001:db8::1]:5353", "--registry-mirrors", "docker.io=m1.example.com,docker.io=m2.example.com/hub",
		"--log-level", "warn")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := image.ParseRegistries("docker.io=m1.example.com,docker.io=m2.example.com/hub", "reg.internal:5000")
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"pool-prewarm", c.PoolPrewarm, []string{"python", "bash"}},
		{"egress-dns", c.EgressDNS, []string{"192.0.2.53:53", "[2001:db8::1]:5353"}},
		{"registries", c.Registries, want},
		{"log-level", c.LogLevel, slog.LevelWarn},
		{"shutdown-timeout", c.ShutdownTimeout, 45 * time.Second},
		{"audit-retention", c.AuditRetention, 2 * time.Hour},
		{"pool-size", c.PoolSize, 3},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("validate: %v", err)
	}
}

func TestDefaultsAreTyped(t *testing.T) {
	c := Default()
	if !reflect.DeepEqual(c.PoolPrewarm, []string{"python"}) || c.LogLevel != slog.LevelInfo || len(c.EgressDNS) != 0 ||
		len(c.Registries.Mirrors) != 0 || c.ShutdownTimeout != 30*time.Second {
		t.Errorf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	for _, flag := range []string{"--egress-dns", "--registry-mirrors", "--pool-prewarm", "--log-level"} {
		if !strings.Contains(Describe(), flag) {
			t.Errorf("Describe lacks %s", flag)
		}
	}
}

// TestBadSettingsFailAtLoad: a value that does not parse fails where it is read, naming the
// setting and its source.
func TestBadSettingsFailAtLoad(t *testing.T) {
	for _, c := range []struct {
		name, env, value, file, want string
	}{
		{name: "env resolver", env: "PADDOCK_EGRESS_DNS", value: "dns.example.com", want: "PADDOCK_EGRESS_DNS"},
		{name: "env mirror", env: "PADDOCK_REGISTRY_MIRRORS", value: "docker.io", want: "REGISTRY=MIRROR"},
		{name: "env insecure", env: "PADDOCK_REGISTRY_INSECURE", value: "http://reg", want: "PADDOCK_REGISTRY_INSECURE"},
		{name: "env level", env: "PADDOCK_LOG_LEVEL", value: "loud", want: "debug, info, warn or error"},
		{name: "env duration", env: "PADDOCK_REAP_INTERVAL", value: "5", want: "PADDOCK_REAP_INTERVAL"},
		{name: "file resolver", file: `{"egress_dns": "nope"}`, want: "egress_dns"},
		{name: "file unknown key", file: `{"colour": "red"}`, want: `unknown setting "colour"`},
		{name: "file list for a number", file: `{"pool_size": [1]}`, want: "pool_size"},
		{name: "file fractional duration", file: `{"reap_interval": 1.5}`, want: "reap_interval"},
		{name: "file not an object", file: `[]`, want: "JSON object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.env != "" {
				t.Setenv(c.env, c.value)
			}
			if _, err := load(t, c.file); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

// TestFlagsRoundTrip: every value's text parses back to the same value, which is how a
// flag given on the command line wins over the environment.
func TestFlagsRoundTrip(t *testing.T) {
	c, err := load(t, "", "--registry-mirrors", "docker.io=a.example.com,ghcr.io=b.example.com,docker.io=c.example.com",
		"--registry-insecure", "b.example.com,reg:5000", "--egress-dns", "192.0.2.9", "--pool-prewarm", "", "--no-auth")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.settings() {
		text := s.value.String()
		d := c
		for _, ds := range d.settings() {
			if ds.name != s.name {
				continue
			}
			if err := ds.value.Set(text); err != nil {
				t.Errorf("%s: %q does not parse back: %v", s.name, text, err)
			} else if !reflect.DeepEqual(d, c) {
				t.Errorf("%s: %q parses back to another value", s.name, text)
			}
		}
	}
	if c.PoolPrewarm != nil || !c.NoAuth {
		t.Errorf("--pool-prewarm \"\" = %#v, --no-auth = %v", c.PoolPrewarm, c.NoAuth)
	}
}
