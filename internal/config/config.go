// Package config is the server's configuration: one struct with documented defaults, loaded
// from an optional JSON file, then PADDOCK_* environment variables, then flags (each layer
// overriding the one before), and validated once at start-up.
package config

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/paddock/paddock/internal/image"
	"github.com/paddock/paddock/internal/usernet"
)

// Config is everything `paddock serve` can be told.
type Config struct {
	Listen              string        `json:"listen"`
	DataDir             string        `json:"data_dir"`
	Runtime             string        `json:"runtime"`
	APIKey              string        `json:"api_key"`
	NoAuth              bool          `json:"-"` // flag only: see flagOnly
	StopSandboxesOnExit bool          `json:"stop_sandboxes_on_exit"`
	PoolSize            int           `json:"pool_size"`
	PoolPrewarm         string        `json:"pool_prewarm"`
	TemplatesFile       string        `json:"templates_file"`
	MaxBodyBytes        int64         `json:"max_body_bytes"`
	MaxFileBytes        int64         `json:"max_file_bytes"`
	BatchWorkers        int           `json:"batch_workers"`
	AuditRetention      time.Duration `json:"audit_retention"`
	ReapInterval        time.Duration `json:"reap_interval"`
	ShutdownTimeout     time.Duration `json:"shutdown_timeout"`
	SessionIdleTimeout  time.Duration `json:"session_idle_timeout"`
	OutputLimit         int           `json:"output_limit"`
	LogLevel            string        `json:"log_level"`
	RegistryMirrors     string        `json:"registry_mirrors"`
	RegistryInsecure    string        `json:"registry_insecure"`
	EgressDNS           string        `json:"egress_dns"`
	MaxImportBytes      int64         `json:"max_import_bytes"`
	MaxHeavyRequests    int           `json:"max_heavy_requests"`
}

// setting describes one field: its flag, environment variable, default and meaning.
type setting struct {
	name, usage string
	def         string
	ptr         any
}

// flagOnly are settings only an explicit command-line flag may change: turning
// authentication off must never come from an inherited environment variable or a shared
// config file. Load refuses them anywhere else.
var flagOnly = map[string]bool{"no-auth": true}

// sourceName is how a setting can be given: its environment variable, or "flag only".
func sourceName(name string) string {
	if flagOnly[name] {
		return "flag only"
	}
	return EnvName(name)
}

func (c *Config) settings() []setting {
	return []setting{
		{"listen", "address to serve HTTP on", "127.0.0.1:18888", &c.Listen},
		{"data-dir", "directory for the database, keys, images and sandboxes (default /var/lib/paddock as root, $XDG_DATA_HOME/paddock otherwise)", "", &c.DataDir},
		{"runtime", "OCI runtime binary with runc's CLI (runc, crun, runsc)", "runc", &c.Runtime},
		{"api-key", "API key clients must present (default: generated into <data-dir>/api-key)", "", &c.APIKey},
		{"no-auth", "serve without API keys (only on a trusted network)", "false", &c.NoAuth},
		{"stop-sandboxes-on-exit", "stop every running sandbox when the server shuts down", "false", &c.StopSandboxesOnExit},
		{"pool-size", "warm sandboxes kept for each built-in template (base, code-interpreter-v1) unless the templates file sets its pool", "4", &c.PoolSize},
		{"pool-prewarm", "languages whose interpreter the built-in templates' warm sandboxes keep running, comma-separated (\"\" = none)", "python", &c.PoolPrewarm},
		{"templates-file", "sandbox templates (JSON, reloaded when it changes; default <data-dir>/templates.json)", "", &c.TemplatesFile},
		{"max-body-bytes", "largest JSON request body", "1048576", &c.MaxBodyBytes},
		{"max-file-bytes", "largest file through the files API", "67108864", &c.MaxFileBytes},
		{"batch-workers", "commands of one /batch/run that run at once", "8", &c.BatchWorkers},
		{"audit-retention", "how long audit events are kept", "720h", &c.AuditRetention},
		{"reap-interval", "how often expired sandboxes are looked for", "1s", &c.ReapInterval},
		{"shutdown-timeout", "how long in-flight requests may take to finish on SIGTERM", "30s", &c.ShutdownTimeout},
		{"session-idle-timeout", "code sessions (kernels) unused this long are deleted (0 = never)", "30m", &c.SessionIdleTimeout},
		{"output-limit", "characters of output a code session execution returns", "10000", &c.OutputLimit},
		{"log-level", "debug, info, warn or error", "info", &c.LogLevel},
		{"registry-mirrors", "registry mirrors tried first, comma-separated REGISTRY=MIRROR[/PREFIX] (e.g. docker.io=mirror.example.com)", "", &c.RegistryMirrors},
		{"egress-dns", "upstream DNS servers for egress sandboxes, comma-separated ip[:port] (default: the host's /etc/resolv.conf)", "", &c.EgressDNS},
		{"registry-insecure", "registries reached over plain HTTP although not on loopback, comma-separated host[:port]", "", &c.RegistryInsecure},
		{"max-import-bytes", "largest image archive POST /images/import accepts (after gunzip)", "8589934592", &c.MaxImportBytes},
		{"max-heavy-requests", "file transfers and buffered commands (exec, run, batch) served at once; more wait up to 5s for a turn, then get 503", "16", &c.MaxHeavyRequests},
	}
}

// EnvName is the environment variable of a setting: PADDOCK_ and the name in capitals.
func EnvName(name string) string {
	return "PADDOCK_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Default returns the defaults.
func Default() Config {
	var c Config
	for _, s := range c.settings() {
		_ = set(s.ptr, s.def)
	}
	return c
}

// RegisterFlags adds one flag per setting to fs, bound to c (initially the defaults).
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	for _, s := range c.settings() {
		usage := fmt.Sprintf("%s (env %s)", s.usage, EnvName(s.name))
		if flagOnly[s.name] {
			usage = s.usage + " (flag only: no environment variable or config file)"
		}
		switch p := s.ptr.(type) {
		case *string:
			fs.StringVar(p, s.name, *p, usage)
		case *bool:
			fs.BoolVar(p, s.name, *p, usage)
		case *int:
			fs.IntVar(p, s.name, *p, usage)
		case *int64:
			fs.Int64Var(p, s.name, *p, usage)
		case *time.Duration:
			fs.DurationVar(p, s.name, *p, usage)
		}
	}
}

// Load fills c from the file at path (if any) and the environment, leaving alone settings
// whose flag was given explicitly on the command line (flags win).
func (c *Config) Load(path string, fs *pflag.FlagSet) error {
	explicit := map[string]string{}
	fs.Visit(func(f *pflag.Flag) { explicit[f.Name] = f.Value.String() })
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("config file: %w", err)
		}
		var keys map[string]json.RawMessage
		if json.Unmarshal(b, &keys) == nil {
			for name := range flagOnly {
				if _, ok := keys[strings.ReplaceAll(name, "-", "_")]; ok {
					return fmt.Errorf("config file %s: %s cannot be set in a file; pass --%s on the command line", path, strings.ReplaceAll(name, "-", "_"), name)
				}
			}
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(c); err != nil {
			return fmt.Errorf("config file %s: %w", path, err)
		}
	}
	for _, s := range c.settings() {
		if v, ok := os.LookupEnv(EnvName(s.name)); ok {
			if flagOnly[s.name] {
				return fmt.Errorf("%s is not honoured: %s can only be given as --%s on the command line; unset it", EnvName(s.name), s.name, s.name)
			}
			if err := set(s.ptr, v); err != nil {
				return fmt.Errorf("%s=%q: %w", EnvName(s.name), v, err)
			}
		}
		if v, ok := explicit[s.name]; ok {
			_ = set(s.ptr, v)
		}
	}
	return nil
}

func set(ptr any, v string) error {
	var err error
	switch p := ptr.(type) {
	case *string:
		*p = v
	case *bool:
		*p, err = strconv.ParseBool(v)
	case *int:
		*p, err = strconv.Atoi(v)
	case *int64:
		*p, err = strconv.ParseInt(v, 10, 64)
	case *time.Duration:
		*p, err = time.ParseDuration(v)
	}
	return err
}

// Validate fails fast with what to change.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen %q: want host:port, e.g. 127.0.0.1:18888", c.Listen)
	}
	switch {
	case c.PoolSize < 0 || c.PoolSize > 1000:
		return fmt.Errorf("pool-size %d: use 0 to 1000", c.PoolSize)
	case c.MaxBodyBytes < 1024:
		return fmt.Errorf("max-body-bytes %d: use at least 1024", c.MaxBodyBytes)
	case c.MaxFileBytes < 1:
		return fmt.Errorf("max-file-bytes %d: use a positive size", c.MaxFileBytes)
	case c.BatchWorkers < 1 || c.BatchWorkers > 256:
		return fmt.Errorf("batch-workers %d: use 1 to 256", c.BatchWorkers)
	case c.AuditRetention < time.Hour:
		return fmt.Errorf("audit-retention %s: keep events at least 1h", c.AuditRetention)
	case c.ReapInterval < 10*time.Millisecond:
		return fmt.Errorf("reap-interval %s: use at least 10ms", c.ReapInterval)
	case c.SessionIdleTimeout < 0:
		return fmt.Errorf("session-idle-timeout %s: use 0 (never) or a positive duration", c.SessionIdleTimeout)
	case c.OutputLimit < 100:
		return fmt.Errorf("output-limit %d: use at least 100", c.OutputLimit)
	case c.ShutdownTimeout <= 0:
		return fmt.Errorf("shutdown-timeout %s: use a positive duration", c.ShutdownTimeout)
	}
	if _, err := usernet.ParseResolvers(c.EgressDNS); err != nil {
		return fmt.Errorf("egress-dns: %w", err)
	}
	if _, err := image.ParseRegistries(c.RegistryMirrors, c.RegistryInsecure); err != nil {
		return fmt.Errorf("registry settings: %w", err)
	}
	if c.MaxHeavyRequests < 1 || c.MaxHeavyRequests > 10000 {
		return fmt.Errorf("max-heavy-requests %d: use 1 to 10000", c.MaxHeavyRequests)
	}
	if c.MaxImportBytes < 1<<20 {
		return fmt.Errorf("max-import-bytes %d: use at least 1048576", c.MaxImportBytes)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log-level %q: use debug, info, warn or error", c.LogLevel)
	}
	return nil
}

// Describe prints every setting with its flag, environment variable, default and meaning.
func Describe() string {
	var b strings.Builder
	var c Config
	for _, s := range c.settings() {
		def := s.def
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(&b, "--%-24s %-32s default %-18s %s\n", s.name, sourceName(s.name), def, s.usage)
	}
	return b.String()
}
