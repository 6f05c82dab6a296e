// Package config is the server's configuration: one struct with documented defaults, loaded
// from an optional JSON file, then PADDOCK_* environment variables, then flags (each layer
// overriding the one before), and validated once at start-up.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/paddock/paddock/internal/driver/kube"
	"github.com/paddock/paddock/internal/image"
)

// Config is everything `paddock serve` can be told, as typed values: lists, resolvers,
// registries and the log level are parsed once, when a flag, variable or file sets them.
type Config struct {
	Listen  string
	DataDir string
	// Store is where records are kept: "" (or "sqlite") for the embedded SQLite database
	// in the data dir, or a postgres:// URL for a PostgreSQL that several replicas share.
	Store   string
	Runtime string
	APIKey  string
	NoAuth  bool // flag only: see flagOnly
	// AdminEmail is the first admin's email, made at first start (docs/accounts.md).
	AdminEmail string
	// JWTSecret signs login tokens (default: generated into <data-dir>/jwt-secret);
	// JWTPreviousSecret is still accepted while a rotation is under way.
	JWTSecret         string
	JWTPreviousSecret string
	TokenExpiry       time.Duration
	// Quota is every user's default quota (docs/accounts.md); zero fields mean no limit.
	QuotaSandboxes, QuotaMemoryMB, QuotaVCPUs, QuotaCreatesPerMinute, QuotaSessions int
	StopSandboxesOnExit                                                             bool
	PoolSize                                                                        int
	PoolPrewarm                                                                     []string // languages
	TemplatesFile                                                                   string
	MaxBodyBytes                                                                    int64
	MaxFileBytes                                                                    int64
	BatchWorkers                                                                    int
	AuditRetention                                                                  time.Duration
	ReapInterval                                                                    time.Duration
	ShutdownTimeout                                                                 time.Duration
	SessionIdleTimeout                                                              time.Duration
	OutputLimit                                                                     int
	LogLevel                                                                        slog.Level
	// Registries are registry-mirrors and registry-insecure.
	Registries image.Registries
	// EgressDNS are upstream resolvers as ip:port.
	EgressDNS        []string
	MaxImportBytes   int64
	MaxHeavyRequests int
	// SandcasterSessionIdle is how long a Sandcaster session may sit idle (docs/sandcaster.md).
	SandcasterSessionIdle time.Duration
	// E2BWebhookSecret verifies POST /webhooks/e2b ("" = the route answers 503).
	E2BWebhookSecret string
	// CredentialKey seals Trinity agents' credentials (bundles and at rest): 32 bytes as hex or
	// base64; "" = derived from <data-dir>/credential-secret (docs/trinity.md).
	CredentialKey string
	// AgentWorkspace is where a Trinity agent's workspace volume is mounted in its sandbox.
	AgentWorkspace string
	// SandcasterConfig is the sandcaster.json of POST /query's defaults ("" = the working
	// directory's, if any).
	SandcasterConfig string
	// SSHListen is the SSH gateway's address ("" = no gateway); SSHPublicAddr the host:port
	// that POST /api/agents/{name}/ssh-access tells clients to connect to (default
	// SSHListen). See docs/trinity.md.
	SSHListen     string
	SSHPublicAddr string
	// Driver runs sandboxes: "runc" (default) on this host, or "kube" as pods in a Kubernetes
	// namespace (docs/scale-out.md#kubernetes-driver); the Kube* settings configure the latter.
	Driver             string
	KubeNamespace      string
	Kubeconfig         string
	KubeGuestImage     string
	KubeBaseImage      string
	KubeRuntimeClass   string
	KubeNodeSelector   []string // key=value
	KubeTolerations    []string // key[=value][:effect]
	KubeSeccomp        string
	KubeRequestPercent int
	// KubePlacements is JSON keyed by template name (kube.ParsePlacements).
	KubePlacements string
	// KubeStorageClass, KubeVolumeAccessMode and KubeVolumeMB make the kube driver's volumes
	// (PersistentVolumeClaims).
	KubeStorageClass     string
	KubeVolumeAccessMode string
	KubeVolumeMB         int64
}

// setting describes one field: its flag, environment variable, default and meaning, and the
// value that parses text into the field.
type setting struct {
	name, usage string
	def         string
	value       value
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
		{"listen", "address to serve HTTP on", "127.0.0.1:18888", (*stringValue)(&c.Listen)},
		{"data-dir", "directory for the database, keys, images and sandboxes (default /var/lib/paddock as root, $XDG_DATA_HOME/paddock otherwise)", "", (*stringValue)(&c.DataDir)},
		{"store", "where sandbox records, users, keys and events are kept: \"\" for SQLite in <data-dir>/paddock.db, or postgres://user:password@host:port/database for a PostgreSQL several replicas share (docs/scale-out.md)", "", (*stringValue)(&c.Store)},
		{"runtime", "OCI runtime binary with runc's CLI (runc, crun, runsc)", "runc", (*stringValue)(&c.Runtime)},
		{"api-key", "API key clients must present (default: generated into <data-dir>/api-key)", "", (*stringValue)(&c.APIKey)},
		{"no-auth", "serve without API keys (only on a trusted network)", "false", (*boolValue)(&c.NoAuth)},
		{"admin-email", "email of the admin user made at first start, who owns the server's API key", "admin@localhost", (*stringValue)(&c.AdminEmail)},
		{"jwt-secret", "secret that signs login tokens, at least 32 bytes (default: generated into <data-dir>/jwt-secret)", "", (*stringValue)(&c.JWTSecret)},
		{"jwt-previous-secret", "former jwt-secret, still accepted while tokens signed with it expire (rotation)", "", (*stringValue)(&c.JWTPreviousSecret)},
		{"token-expiry", "how long a login token (POST /api/token) is valid", "24h", (*durationValue)(&c.TokenExpiry)},
		{"quota-sandboxes", "running and paused sandboxes a user may have at once (0 = no limit; admins have none)", "0", (*intValue)(&c.QuotaSandboxes)},
		{"quota-memory-mb", "total memory limit (MB) of a user's running sandboxes (0 = no limit)", "0", (*intValue)(&c.QuotaMemoryMB)},
		{"quota-vcpus", "total vCPUs of a user's running sandboxes (0 = no limit)", "0", (*intValue)(&c.QuotaVCPUs)},
		{"quota-creates-per-minute", "sandboxes a user may create in any minute, pool claims included (0 = no limit)", "0", (*intValue)(&c.QuotaCreatesPerMinute)},
		{"quota-sessions", "code sessions (KernelBox kernels) a user may have at once (0 = no limit)", "0", (*intValue)(&c.QuotaSessions)},
		{"stop-sandboxes-on-exit", "stop every running sandbox when the server shuts down", "false", (*boolValue)(&c.StopSandboxesOnExit)},
		{"pool-size", "warm sandboxes kept for each built-in template (base, code-interpreter-v1) unless the templates file sets its pool", "4", (*intValue)(&c.PoolSize)},
		{"pool-prewarm", "languages whose interpreter the built-in templates' warm sandboxes keep running, comma-separated (\"\" = none)", "python", (*listValue)(&c.PoolPrewarm)},
		{"templates-file", "sandbox templates (JSON, reloaded when it changes; default <data-dir>/templates.json)", "", (*stringValue)(&c.TemplatesFile)},
		{"max-body-bytes", "largest JSON request body", "1048576", (*int64Value)(&c.MaxBodyBytes)},
		{"max-file-bytes", "largest file through the files API", "67108864", (*int64Value)(&c.MaxFileBytes)},
		{"batch-workers", "commands of one /batch/run that run at once", "8", (*intValue)(&c.BatchWorkers)},
		{"audit-retention", "how long audit events are kept", "720h", (*durationValue)(&c.AuditRetention)},
		{"reap-interval", "how often expired sandboxes are looked for", "1s", (*durationValue)(&c.ReapInterval)},
		{"shutdown-timeout", "how long in-flight requests may take to finish on SIGTERM", "30s", (*durationValue)(&c.ShutdownTimeout)},
		{"session-idle-timeout", "code sessions (kernels) unused this long are deleted (0 = never)", "30m", (*durationValue)(&c.SessionIdleTimeout)},
		{"output-limit", "characters of output a code session execution returns", "10000", (*intValue)(&c.OutputLimit)},
		{"log-level", "debug, info, warn or error", "info", (*levelValue)(&c.LogLevel)},
		{"registry-mirrors", "registry mirrors tried first, comma-separated REGISTRY=MIRROR[/PREFIX] (e.g. docker.io=mirror.example.com)", "", (*mirrorsValue)(&c.Registries)},
		{"egress-dns", "upstream DNS servers for egress sandboxes, comma-separated ip[:port] (default: the host's /etc/resolv.conf)", "", (*resolversValue)(&c.EgressDNS)},
		{"registry-insecure", "registries reached over plain HTTP although not on loopback, comma-separated host[:port]", "", (*insecureValue)(&c.Registries)},
		{"max-import-bytes", "largest image archive POST /images/import accepts (after gunzip)", "8589934592", (*int64Value)(&c.MaxImportBytes)},
		{"sandcaster-config", "sandcaster.json with the defaults of Sandcaster's POST /query and its model alias and price tables (default: sandcaster.json in the working directory, if any)", "", (*stringValue)(&c.SandcasterConfig)},
		{"max-heavy-requests", "file transfers and buffered commands (exec, run, batch) served at once; more wait up to 5s for a turn, then get 503", "16", (*intValue)(&c.MaxHeavyRequests)},
		{"sandcaster-session-idle-timeout", "Sandcaster sessions idle this long end and their sandbox is deleted (a session's sessionConfig.idleTimeoutSecs overrides it)", "15m", (*durationValue)(&c.SandcasterSessionIdle)},
		{"agent-workspace", "where a Trinity agent's persistent workspace is mounted in its sandbox (an absolute path)", "/home/developer", (*stringValue)(&c.AgentWorkspace)},
		{"credential-key", "key sealing agents' credentials (.credentials.enc bundles, and at rest): 32 bytes as hex or base64 (default: derived from <data-dir>/credential-secret)", "", (*stringValue)(&c.CredentialKey)},
		{"ssh-listen", "address of the SSH gateway to Trinity agents, e.g. 127.0.0.1:18822 (\"\" = no gateway)", "", (*stringValue)(&c.SSHListen)},
		{"ssh-public-addr", "host:port that SSH access answers tell clients to connect to (default: ssh-listen)", "", (*stringValue)(&c.SSHPublicAddr)},
		{"driver", "what runs sandboxes: runc (containers on this host) or kube (pods in a Kubernetes namespace, docs/scale-out.md#kubernetes-driver)", "runc", (*stringValue)(&c.Driver)},
		{"kube-namespace", "namespace of the kube driver's pods, secrets and network policies (it must exist)", "paddock", (*stringValue)(&c.KubeNamespace)},
		{"kubeconfig", "kubeconfig of the kube driver (default: the in-cluster service account, then $KUBECONFIG, then ~/.kube/config)", "", (*stringValue)(&c.Kubeconfig)},
		{"kube-guest-image", "image holding the static paddock binary at /paddock, which the kube driver installs as each pod's guest", "", (*stringValue)(&c.KubeGuestImage)},
		{"kube-base-image", "image the kube driver runs for sandboxes that ask for \"base\" or no image", "", (*stringValue)(&c.KubeBaseImage)},
		{"kube-runtime-class", "RuntimeClass of sandbox pods, e.g. gvisor or kata (\"\" = the cluster's default)", "", (*stringValue)(&c.KubeRuntimeClass)},
		{"kube-node-selector", "node labels sandbox pods must land on, comma-separated key=value", "", (*listValue)(&c.KubeNodeSelector)},
		{"kube-tolerations", "taints sandbox pods tolerate, comma-separated key[=value][:effect]", "", (*listValue)(&c.KubeTolerations)},
		{"kube-seccomp-profile", "Localhost seccomp profile of sandbox pods, relative to the kubelet's seccomp directory (\"\" = RuntimeDefault)", "", (*stringValue)(&c.KubeSeccomp)},
		{"kube-placements", "per-template placement of sandbox pods, JSON: {\"TEMPLATE\": {\"runtime_class\": \"gvisor\", \"node_selector\": [\"k=v\"], \"tolerations\": [\"k=v:NoSchedule\"]}}", "", (*jsonValue)(&c.KubePlacements)},
		{"kube-request-percent", "requests of sandbox pods as a percentage of their limits (1-100)", "100", (*intValue)(&c.KubeRequestPercent)},
		{"kube-storage-class", "StorageClass of the kube driver's volumes, PersistentVolumeClaims (\"\" = the cluster's default class)", "", (*stringValue)(&c.KubeStorageClass)},
		{"kube-volume-access-mode", "access mode of the kube driver's volumes: ReadWriteOnce (pods mounting a volume share a node), ReadWriteOncePod or ReadWriteMany", "ReadWriteOnce", (*stringValue)(&c.KubeVolumeAccessMode)},
		{"kube-volume-size-mb", "size (MiB) of the kube driver's volumes made without one, such as agents' workspaces", "10240", (*int64Value)(&c.KubeVolumeMB)},
		{"e2b-webhook-secret", "secret of E2B's lifecycle webhooks (HMAC-SHA256 of the body in e2b-signature); unset, POST /webhooks/e2b answers 503", "", (*stringValue)(&c.E2BWebhookSecret)},
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
		if err := s.value.Set(s.def); err != nil {
			panic(fmt.Sprintf("config: default of %s: %v", s.name, err))
		}
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
		f := fs.VarPF(s.value, s.name, "", usage)
		if _, ok := s.value.(*boolValue); ok {
			f.NoOptDefVal = "true"
		}
	}
}

// Load fills c from the file at path (if any) and the environment, leaving alone settings
// whose flag was given explicitly on the command line (flags win). Each value is parsed
// and checked as it is read; the error names the setting and where it came from.
func (c *Config) Load(path string, fs *pflag.FlagSet) error {
	explicit := map[string]string{}
	fs.Visit(func(f *pflag.Flag) { explicit[f.Name] = f.Value.String() })
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return err
		}
	}
	for _, s := range c.settings() {
		if v, ok := os.LookupEnv(EnvName(s.name)); ok {
			if flagOnly[s.name] {
				return fmt.Errorf("%s is not honoured: %s can only be given as --%s on the command line; unset it", EnvName(s.name), s.name, s.name)
			}
			if err := s.value.Set(v); err != nil {
				return fmt.Errorf("%s=%q: %w", EnvName(s.name), v, err)
			}
		}
		if v, ok := explicit[s.name]; ok {
			if err := s.value.Set(v); err != nil {
				return fmt.Errorf("--%s: %w", s.name, err)
			}
		}
	}
	return nil
}

// fileKey is a setting's key in the config file: its name with underscores.
func fileKey(name string) string { return strings.ReplaceAll(name, "-", "_") }

// loadFile reads a JSON object of settings. Values are JSON strings in the flag's syntax;
// numbers and booleans may be bare, lists may be arrays, and durations may be numbers of
// nanoseconds (as the file was read before settings were typed).
func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return fmt.Errorf("config file %s: want a JSON object of settings: %w", path, err)
	}
	byKey := map[string]setting{}
	for _, s := range c.settings() {
		byKey[fileKey(s.name)] = s
	}
	for key, raw := range keys {
		s, ok := byKey[key]
		switch {
		case !ok:
			return fmt.Errorf("config file %s: unknown setting %q ('paddock config default' lists them)", path, key)
		case flagOnly[s.name]:
			return fmt.Errorf("config file %s: %s cannot be set in a file; pass --%s on the command line", path, key, s.name)
		}
		text, err := fileText(raw, s.value)
		if err == nil {
			err = s.value.Set(text)
		}
		if err != nil {
			return fmt.Errorf("config file %s: %s: %w", path, key, err)
		}
	}
	return nil
}

// fileText turns a config file value into the text the setting's value parses.
func fileText(raw json.RawMessage, v value) (string, error) {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str, nil
	}
	if _, ok := v.(*jsonValue); ok {
		return string(raw), nil // an object, kept as its JSON text
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		if _, ok := v.(interface{ list() }); ok {
			return strings.Join(list, ","), nil
		}
		return "", errors.New("a list is not a value for this setting")
	}
	var num json.Number
	if json.Unmarshal(raw, &num) == nil {
		if _, ok := v.(*durationValue); ok {
			ns, err := num.Int64()
			if err != nil {
				return "", fmt.Errorf("%s: want a duration such as \"30s\"", num)
			}
			return time.Duration(ns).String(), nil
		}
		return num.String(), nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return strconv.FormatBool(b), nil
	}
	return "", fmt.Errorf("%s: want a string, number, boolean or list", raw)
}

// Validate fails fast with what to change.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen %q: want host:port, e.g. 127.0.0.1:18888", c.Listen)
	}
	if c.SSHListen != "" {
		if _, _, err := net.SplitHostPort(c.SSHListen); err != nil {
			return fmt.Errorf("ssh-listen %q: want host:port, e.g. 127.0.0.1:18822, or \"\" for no gateway", c.SSHListen)
		}
	}
	if c.SSHPublicAddr != "" {
		if _, _, err := net.SplitHostPort(c.SSHPublicAddr); err != nil {
			return fmt.Errorf("ssh-public-addr %q: want host:port, e.g. agents.example.com:22", c.SSHPublicAddr)
		}
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
	case c.SandcasterSessionIdle <= 0 || c.SandcasterSessionIdle > 24*time.Hour:
		return fmt.Errorf("sandcaster-session-idle-timeout %s: use a positive duration up to 24h", c.SandcasterSessionIdle)
	case c.OutputLimit < 100:
		return fmt.Errorf("output-limit %d: use at least 100", c.OutputLimit)
	case c.ShutdownTimeout <= 0:
		return fmt.Errorf("shutdown-timeout %s: use a positive duration", c.ShutdownTimeout)
	case c.TokenExpiry < time.Minute || c.TokenExpiry > 366*24*time.Hour:
		return fmt.Errorf("token-expiry %s: use 1m to 8784h", c.TokenExpiry)
	case c.JWTSecret != "" && len(c.JWTSecret) < 32:
		return fmt.Errorf("jwt-secret: use at least 32 bytes (e.g. openssl rand -hex 32)")
	case c.JWTPreviousSecret != "" && len(c.JWTPreviousSecret) < 32:
		return fmt.Errorf("jwt-previous-secret: use at least 32 bytes")
	case !path.IsAbs(c.AgentWorkspace) || path.Clean(c.AgentWorkspace) != c.AgentWorkspace || c.AgentWorkspace == "/":
		return fmt.Errorf("agent-workspace %q: want a clean absolute path other than /, such as /home/developer", c.AgentWorkspace)
	case c.CredentialKey != "" && !validCredentialKey(c.CredentialKey):
		return fmt.Errorf("credential-key: want 32 bytes as hex (64 characters) or base64 (e.g. openssl rand -hex 32)")
	case c.QuotaSandboxes < 0 || c.QuotaMemoryMB < 0 || c.QuotaVCPUs < 0 || c.QuotaCreatesPerMinute < 0 || c.QuotaSessions < 0:
		return fmt.Errorf("quota-*: use 0 (no limit) or a positive number")
	case !strings.Contains(c.AdminEmail, "@"):
		return fmt.Errorf("admin-email %q: want an address such as admin@localhost", c.AdminEmail)
	}
	if c.Store != "" && c.Store != "sqlite" && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		// The value is not quoted: it may be a URL with a password, mistyped.
		return fmt.Errorf("store: want \"\" (SQLite in the data dir) or a postgres://user:password@host:port/database URL")
	}
	for _, r := range c.EgressDNS {
		if _, err := netip.ParseAddrPort(r); err != nil {
			return fmt.Errorf("egress-dns: resolver %q: want ip:port", r)
		}
	}
	if c.MaxHeavyRequests < 1 || c.MaxHeavyRequests > 10000 {
		return fmt.Errorf("max-heavy-requests %d: use 1 to 10000", c.MaxHeavyRequests)
	}
	if c.MaxImportBytes < 1<<20 {
		return fmt.Errorf("max-import-bytes %d: use at least 1048576", c.MaxImportBytes)
	}
	if err := c.validateDriver(); err != nil {
		return err
	}
	if _, ok := levelNames[c.LogLevel]; !ok {
		return fmt.Errorf("log-level %s: use debug, info, warn or error", c.LogLevel)
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

// validCredentialKey reports whether s is 32 bytes as hex or base64, as credential.ParseKey
// reads it (that package's tests hold the two to the same answers; importing it here would
// pull the manager into the config).
func validCredentialKey(s string) bool {
	s = strings.TrimSpace(s)
	for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString, base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString} {
		if b, err := dec(s); err == nil && len(b) == 32 {
			return true
		}
	}
	return false
}

// validateDriver checks the driver and, for kube, its settings.
func (c *Config) validateDriver() error {
	switch c.Driver {
	case "runc":
		return nil
	case "kube":
	default:
		return fmt.Errorf("driver %q: use runc or kube", c.Driver)
	}
	switch {
	case c.KubeNamespace == "":
		return errors.New("kube-namespace: name the namespace sandbox pods go to")
	case c.KubeGuestImage == "":
		return errors.New("kube-guest-image: the kube driver needs an image holding the static paddock binary at /paddock")
	case c.KubeBaseImage == "":
		return errors.New("kube-base-image: the kube driver needs the image sandboxes run by default (e.g. a busybox or Debian image)")
	case c.KubeRequestPercent < 1 || c.KubeRequestPercent > 100:
		return fmt.Errorf("kube-request-percent %d: use 1 to 100", c.KubeRequestPercent)
	case c.KubeVolumeMB < 1:
		return fmt.Errorf("kube-volume-size-mb %d: use a size of at least 1", c.KubeVolumeMB)
	}
	if err := kube.CheckVolumeAccessMode(c.KubeVolumeAccessMode); err != nil {
		return fmt.Errorf("kube-volume-access-mode: %w", err)
	}
	if c.KubeStorageClass != "" && !kube.ValidStorageClass(c.KubeStorageClass) {
		return fmt.Errorf("kube-storage-class %q is not a StorageClass name", c.KubeStorageClass)
	}
	if _, err := kube.ParseNodeSelector(c.KubeNodeSelector); err != nil {
		return fmt.Errorf("kube-node-selector: %w", err)
	}
	if _, err := kube.ParseTolerations(c.KubeTolerations); err != nil {
		return fmt.Errorf("kube-tolerations: %w", err)
	}
	if _, err := kube.ParsePlacements(c.KubePlacements); err != nil {
		return fmt.Errorf("kube-placements: %w", err)
	}
	return nil
}
