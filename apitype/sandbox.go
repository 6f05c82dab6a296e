package apitype

import "time"

// Sandbox is a sandbox as the server describes it (GET /sandboxes/{name} and the routes that
// change one). Fields the server does not know are omitted.
type Sandbox struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	Status  string `json:"status"`
	Backend string `json:"backend"`
	// Owner is the user ID of the sandbox's owner ("" for sandboxes made before accounts).
	Owner    string  `json:"owner,omitempty"`
	Image    string  `json:"image,omitempty"`
	Profile  string  `json:"profile,omitempty"`
	VCPUs    float64 `json:"vcpus,omitempty"`
	MemoryMB int64   `json:"memory_mb,omitempty"`
	Pids     int64   `json:"pids,omitempty"`
	DiskMB   int64   `json:"disk_mb,omitempty"`
	Network  string  `json:"network,omitempty"`
	// AllowOut and DenyOut are the egress policy (see NetworkPolicy).
	AllowOut  []string   `json:"allow_out,omitempty"`
	DenyOut   []string   `json:"deny_out,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	OnExpire  string     `json:"on_expire,omitempty"`
	// AutoResume and IdleTimeout are as in CreateRequest.
	AutoResume  bool              `json:"auto_resume,omitempty"`
	IdleTimeout string            `json:"idle_timeout,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Reason      string            `json:"reason,omitempty"`
	// Port is the application port (/sandbox/{name}/ goes there); PublicPorts need no
	// credential (0 = every port); TrafficToken opens the other ports without the API key.
	Port         int    `json:"port,omitempty"`
	PublicPorts  []int  `json:"public_ports,omitempty"`
	TrafficToken string `json:"traffic_token,omitempty"`
	// Template is the template the sandbox was made from.
	Template string `json:"template,omitempty"`
}

// CreateRequest is the body of POST /sandboxes: what the new sandbox should be. Only Name is
// required.
type CreateRequest struct {
	Name     string  `json:"name"`
	Image    string  `json:"image,omitempty"`
	Profile  string  `json:"profile,omitempty"`
	VCPUs    float64 `json:"vcpus,omitempty"`
	MemoryMB int64   `json:"memory_mb,omitempty"`
	Pids     int64   `json:"pids,omitempty"`
	// DiskMB is the writable layer's size (with a read-only root, /tmp's).
	DiskMB  int64             `json:"disk_mb,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
	Workdir string            `json:"workdir,omitempty"`
	User    string            `json:"user,omitempty"`
	// TTL is a Go duration ("30m", "2h"); OnExpire is what it does: delete, stop or pause.
	TTL      string `json:"ttl,omitempty"`
	OnExpire string `json:"on_expire,omitempty"`
	// IdleTimeout pauses the sandbox after this long (a Go duration) without an API call,
	// command, file operation or proxied request; AutoResume resumes a paused sandbox on the
	// first request proxied to it (only with on_expire pause or an idle timeout).
	IdleTimeout string            `json:"idle_timeout,omitempty"`
	AutoResume  bool              `json:"auto_resume,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// Network is "none" (loopback only) or "egress" (default: the profile's); AllowOut and
	// DenyOut are the egress policy.
	Network  string   `json:"network,omitempty"`
	AllowOut []string `json:"allow_out,omitempty"`
	DenyOut  []string `json:"deny_out,omitempty"`
	// Port is the application port (nil = 8080; a port given must be 1-65535, 0 included
	// is refused); PublicPorts are reachable through the server without credentials.
	Port        *int  `json:"port,omitempty"`
	PublicPorts []int `json:"public_ports,omitempty"`
	// Template supplies defaults (image, profile, env, limits, port, start command); the
	// request's own fields win.
	Template string `json:"template,omitempty"`
}

// ExtendRequest is the body of POST /sandboxes/{name}/extend: a Go duration ("30m").
type ExtendRequest struct {
	By string `json:"by"`
}

// NetworkPolicy is the body of PUT /sandboxes/{name}/network, a sandbox's egress policy:
// CIDRs, IP addresses, domain names and "*." wildcards. The most specific rule wins, deny
// wins ties; without a match public addresses are allowed and private ones are not.
type NetworkPolicy struct {
	AllowOut []string `json:"allow_out"`
	DenyOut  []string `json:"deny_out"`
}

// PortVisibility answers PUT and DELETE /sandboxes/{name}/public-ports/{port}: the port's
// state afterwards and every public port of the sandbox (0 stands for every port).
type PortVisibility struct {
	Sandbox     string `json:"sandbox"`
	Port        int    `json:"port"`
	Public      bool   `json:"public"`
	PublicPorts []int  `json:"public_ports"`
}
