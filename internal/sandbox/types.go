package sandbox

import (
	"time"
)

// State is where a sandbox is in its lifecycle.
type State string

// Lifecycle states. Creating and Removing are transient; Failed means the engine could not
// bring the sandbox up or lost it and will not retry on its own.
const (
	StateCreating State = "creating"
	StateRunning  State = "running"
	StatePaused   State = "paused"
	StateStopped  State = "stopped"
	StateRemoving State = "removing"
	StateFailed   State = "failed"
)

// NetworkMode says what a sandbox's network namespace can reach.
type NetworkMode string

// Network modes: NetworkNone is loopback only; NetworkEgress reaches public addresses,
// subject to the sandbox's EgressPolicy.
const (
	NetworkNone   NetworkMode = "none"
	NetworkEgress NetworkMode = "egress"
)

// EgressPolicy narrows or widens what an egress sandbox may reach. Entries are CIDRs
// ("203.0.113.0/24", a bare IP), domain names ("example.com") or domain wildcards
// ("*.example.com"). Deny wins; without a match public addresses are allowed and private,
// loopback, link-local and shared ranges are not.
type EgressPolicy struct {
	AllowOut []string `json:"allow_out,omitempty"`
	DenyOut  []string `json:"deny_out,omitempty"`
}

// Spec is what a user asks for. Zero values mean "take the profile's default".
type Spec struct {
	Name     string  `json:"name"`
	Image    string  `json:"image,omitempty"`
	Profile  string  `json:"profile,omitempty"`
	VCPUs    float64 `json:"vcpus,omitempty"`
	MemoryMB int64   `json:"memory_mb,omitempty"`
	Pids     int64   `json:"pids,omitempty"`
	// DiskMB is the size of the sandbox's writable layer in MiB (0 = the profile's default).
	DiskMB  int64             `json:"disk_mb,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
	Workdir string            `json:"workdir,omitempty"`
	User    string            `json:"user,omitempty"`
	// DefaultUser is the user processes run as when they name none. Unlike User, it does not
	// change the identity the sandbox itself runs under, so processes may still ask for others.
	DefaultUser string      `json:"default_user,omitempty"`
	Network     NetworkMode `json:"network,omitempty"`
	// Egress is the egress policy (only meaningful with NetworkEgress).
	Egress EgressPolicy  `json:"egress,omitempty"`
	TTL    time.Duration `json:"ttl,omitempty"`
	// OnExpire is what happens when the TTL runs out: ExpireDelete (default), ExpireStop or
	// ExpirePause.
	OnExpire string `json:"on_expire,omitempty"`
	// AutoResume resumes a paused sandbox on the first request proxied to it (E2B's
	// autoResume; only with OnExpire ExpirePause or an IdleTimeout).
	AutoResume bool `json:"auto_resume,omitempty"`
	// IdleTimeout pauses a running sandbox after this long without an API call, exec, file
	// operation or proxied request (0 = never; Agent-Sandbox's metadata.idleTimeout).
	IdleTimeout time.Duration     `json:"idle_timeout,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// Template names the template the sandbox was made from ("" when none).
	Template string `json:"template,omitempty"`
	// Port is the port the sandbox's application listens on: where routes that name no
	// port (Agent-Sandbox's /sandbox/{name}/) send traffic. 0 means the default, 8080.
	Port int `json:"port,omitempty"`
	// PublicPorts are ports reachable through the server without the API key or the
	// sandbox's traffic token.
	PublicPorts []int `json:"public_ports,omitempty"`
	// StartCmd is a template's start command: run in the background each time the sandbox
	// starts (at create, and again after a stop and start or a restart by the reconciler).
	StartCmd []string `json:"start_cmd,omitempty"`
	// Mounts put volumes (made with Manager.CreateVolume) into the sandbox, in order. A
	// sandbox with mounts is always made from scratch: warm pools never serve one.
	Mounts []Mount `json:"mounts,omitempty"`
}

// What the TTL reaper does with an expired sandbox.
const (
	ExpireDelete = "delete"
	ExpireStop   = "stop"
	// ExpirePause freezes it instead (E2B's autoPause); a paused sandbox does not expire.
	ExpirePause = "pause"
)

// NetworkViolation is a connection or DNS lookup that a sandbox's egress policy blocked.
type NetworkViolation struct {
	Proto  string `json:"proto"`          // "tcp", "udp" or "dns"
	Dest   string `json:"dest,omitempty"` // ip:port
	Name   string `json:"name,omitempty"` // the domain looked up or announced (SNI, Host)
	Rule   string `json:"rule,omitempty"` // the policy entry that decided ("" = the default)
	Reason string `json:"reason"`
	// Suppressed counts violations not reported since the previous one (rate limit).
	Suppressed int `json:"suppressed,omitempty"`
}

// Sandbox is the record the manager keeps for one sandbox.
type Sandbox struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Spec      Spec       `json:"spec"`
	Owner     string     `json:"owner,omitempty"`
	State     State      `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// GuestToken is the secret the host presents to this sandbox's guest (X-Access-Token).
	GuestToken string `json:"guest_token,omitempty"`
	// TrafficToken lets a client reach the sandbox's ports through the server without an
	// API key.
	TrafficToken string `json:"traffic_token,omitempty"`
	// Reason says why the sandbox is Failed.
	Reason string `json:"reason,omitempty"`
	// Node is the machine whose driver runs the sandbox, when drivers are per machine
	// (runc) and several replicas share the store; empty when every replica's driver reaches
	// it (a shared driver, or a replica alone).
	Node string `json:"node,omitempty"`
	// Instance is the driver-level spec the sandbox was created with (image resolved,
	// profile applied). Kept so that Start after Stop, and adoption after a restart, can
	// rebuild the same unit.
	Instance InstanceSpec `json:"instance"`
}

// Resources are the cgroup limits of a sandbox. Zero means unlimited.
type Resources struct {
	VCPUs    float64 `json:"vcpus,omitempty"`
	MemoryMB int64   `json:"memory_mb,omitempty"`
	Pids     int64   `json:"pids,omitempty"`
	// DiskMB bounds the writable layer's size (and, in proportion, its inodes). With a
	// read-only root it is the size of the /tmp tmpfs instead.
	DiskMB int64 `json:"disk_mb,omitempty"`
}

// Security is a resolved security profile: everything a driver needs to confine a sandbox.
type Security struct {
	Profile string `json:"profile"`
	// ReadOnlyRoot makes the root filesystem read-only; TmpSizeMB > 0 then mounts /tmp as a
	// noexec,nosuid tmpfs of that size.
	ReadOnlyRoot bool  `json:"read_only_root,omitempty"`
	TmpSizeMB    int64 `json:"tmp_size_mb,omitempty"`
	// UID and GID run the guest (PID 1) and are the default identity for processes.
	UID uint32 `json:"uid"`
	GID uint32 `json:"gid"`
	// Capabilities are Linux capability names ("CAP_CHOWN") kept in every set.
	Capabilities []string `json:"capabilities"`
	// Seccomp names a profile of package seccomp.
	Seccomp string `json:"seccomp"`
	// Rlimits are the resource limits of the guest (PID 1), which every process it starts
	// inherits.
	Rlimits []Rlimit `json:"rlimits,omitempty"`
}

// Rlimit is one POSIX resource limit ("RLIMIT_NOFILE") with its soft and hard values.
type Rlimit struct {
	Type string `json:"type"`
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// InstanceSpec is what a Driver needs to create one isolation unit.
type InstanceSpec struct {
	ID        string      `json:"id"`
	Hostname  string      `json:"hostname"`
	Image     Image       `json:"image"`
	Resources Resources   `json:"resources"`
	Security  Security    `json:"security"`
	Network   NetworkMode `json:"network"`
	// Egress is the initial egress policy; drivers that implement Networker change it at
	// runtime.
	Egress EgressPolicy      `json:"egress,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	// Mounts put volumes (see VolumeManager) into the unit, applied in order, so a later
	// mount may sit inside an earlier one (a writable directory in a read-only workspace).
	Mounts []Mount `json:"mounts,omitempty"`
	// Template is the template the sandbox was made from ("" = none), for drivers that place
	// units per template (the kube driver's runtime class and nodes).
	Template string `json:"template,omitempty"`
}

// Mount puts a volume, or a directory inside one, into a sandbox.
type Mount struct {
	// Volume is the ID of a volume made with VolumeManager.CreateVolume.
	Volume string `json:"volume"`
	// SubPath is a path inside the volume ("" = its root): relative, slash-separated, without
	// ".." elements. Drivers resolve it beneath the volume's root without following symlinks
	// (the sandbox controls what is inside a volume), creating missing directories, and refuse
	// it when an element is a symlink.
	SubPath string `json:"sub_path,omitempty"`
	// Destination is the absolute path in the sandbox.
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"read_only,omitempty"`
}

// Volume is storage kept apart from any one unit: it survives the units that mount it and is
// removed only with DeleteVolume.
type Volume struct {
	ID string `json:"id"`
	// SizeMB bounds its content (0 = unbounded: the driver could not or was not asked to).
	SizeMB int64             `json:"size_mb,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Instance is a driver's view of one unit it manages, as returned by Driver.List.
type Instance struct {
	ID     string
	State  State
	Labels map[string]string
}

// Stats is a point-in-time reading of a sandbox's cgroup.
type Stats struct {
	Time         time.Time `json:"time"`
	CPUUsageNs   uint64    `json:"cpu_usage_ns"`
	MemoryBytes  uint64    `json:"memory_bytes"`
	MemoryCache  uint64    `json:"memory_cache_bytes"`
	MemoryLimit  uint64    `json:"memory_limit_bytes"`
	Pids         uint64    `json:"pids"`
	PidsLimit    uint64    `json:"pids_limit"`
	OOMKillCount uint64    `json:"oom_kill_count"`
	// DiskBytes is what the writable layer holds, when the driver bounds it (0 otherwise).
	DiskBytes uint64 `json:"disk_bytes,omitempty"`
	// Net is the sandbox's network traffic so far, when the driver can count it (nil
	// otherwise): bytes and packets seen from the sandbox's side.
	Net *NetStats `json:"net,omitempty"`
}

// NetStats counts a sandbox's network traffic since its network was made.
type NetStats struct {
	RxBytes   uint64 `json:"rx_bytes"`
	TxBytes   uint64 `json:"tx_bytes"`
	RxPackets uint64 `json:"rx_packets"`
	TxPackets uint64 `json:"tx_packets"`
}

// Bind is a read-only host path mounted into the sandbox.
type Bind struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
}

// ImageConfig is the process defaults an image carries.
type ImageConfig struct {
	Env        []string `json:"env,omitempty"`
	WorkingDir string   `json:"working_dir,omitempty"`
	User       string   `json:"user,omitempty"`
}

// Image is a resolved root filesystem: read-only lower directories (lowest first) and
// read-only host binds, plus the image's process defaults.
type Image struct {
	Ref    string      `json:"ref"`
	Layers []string    `json:"layers"`
	Binds  []Bind      `json:"binds,omitempty"`
	Config ImageConfig `json:"config"`
}

// Run is the record of one command run in a throwaway sandbox (/run and friends).
type Run struct {
	ID         int64     `json:"id,omitempty"`
	Sandbox    string    `json:"sandbox"`
	Owner      string    `json:"owner,omitempty"`
	Command    []string  `json:"command"`
	ExitCode   int       `json:"exit_code"`
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}
