package sshgate

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
)

// AccessRequest is the body of POST /api/agents/{name}/ssh-access (Trinity's
// SshAccessRequest). Decode it over NewAccessRequest() so that a body without ttl_hours gets
// the default.
type AccessRequest struct {
	TTLHours float64 `json:"ttl_hours"`
	// AuthMethod is upstream's: only "key" ("" means key) is supported.
	AuthMethod string `json:"auth_method,omitempty"`
	// PublicKey is an ssh-ed25519 authorized_keys line; empty asks Paddock to generate a pair.
	PublicKey string `json:"public_key,omitempty"`
}

// NewAccessRequest is an AccessRequest with upstream's defaults, to decode a body into.
func NewAccessRequest() AccessRequest {
	return AccessRequest{TTLHours: DefaultTTLHours, AuthMethod: "key"}
}

// Connection says where to connect (Trinity's SshConnectionInfo).
type Connection struct {
	Command string `json:"command"`
	Host    string `json:"host"`
	Port    int    `json:"port"`
	User    string `json:"user"`
}

// Access is the answer of POST /api/agents/{name}/ssh-access (Trinity's SshAccessResponse),
// plus the private key when Paddock generated the pair.
type Access struct {
	Status         string     `json:"status"` // "success"
	Agent          string     `json:"agent"`
	AuthMethod     string     `json:"auth_method"` // "key"
	Connection     Connection `json:"connection"`
	ExpiresAt      time.Time  `json:"expires_at"`
	ExpiresInHours float64    `json:"expires_in_hours"`
	Instructions   []string   `json:"instructions"`
	// PrivateKey (OpenSSH PEM) appears once, when no public_key was given.
	PrivateKey string `json:"private_key,omitempty"`
}

// Access grants a key for the agent (ID agentID, current name agentName) as req asks and
// answers with where to connect: publicHost:port of the gateway (publicAddr is "host:port",
// the address clients reach the gateway at). Bad input is errdefs.ErrInvalidArgument naming
// the field.
func (k *Keys) Access(ctx context.Context, agentID, agentName, publicAddr string, req AccessRequest) (*Access, error) {
	if m := strings.ToLower(req.AuthMethod); m != "" && m != "key" {
		return nil, errdefs.InvalidArgument("auth_method: only key-based SSH access is supported (give public_key, or none to have a key generated)")
	}
	host, portStr, err := net.SplitHostPort(publicAddr)
	if err != nil {
		return nil, errdefs.Unavailable("the SSH gateway has no usable address")
	}
	port, _ := strconv.Atoi(portStr)
	iss, err := k.Grant(ctx, agentID, req.PublicKey, req.TTLHours)
	if err != nil {
		return nil, err
	}
	conn := Connection{Host: host, Port: port, User: agentName,
		Command: fmt.Sprintf("ssh -p %d %s@%s", port, agentName, host)}
	instr := []string{}
	if iss.PrivateKey != "" {
		conn.Command = fmt.Sprintf("ssh -i %s -p %d %s@%s", "paddock-"+agentName+".key", port, agentName, host)
		instr = append(instr, fmt.Sprintf("Save private_key to paddock-%s.key and run: chmod 600 paddock-%s.key", agentName, agentName),
			"The private key is shown only once; Paddock does not keep it")
	}
	instr = append(instr, "Connect: "+conn.Command,
		fmt.Sprintf("Key expires in %g hours (%s)", req.TTLHours, iss.ExpiresAt.Format(time.RFC3339)),
		"Open sessions end when the key expires or is revoked")
	return &Access{Status: "success", Agent: agentName, AuthMethod: "key", Connection: conn,
		ExpiresAt: iss.ExpiresAt, ExpiresInHours: req.TTLHours, Instructions: instr, PrivateKey: iss.PrivateKey}, nil
}
