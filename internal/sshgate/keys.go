package sshgate

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/pem"
	"fmt"
	"math"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paddock/paddock/internal/errdefs"
)

// TTL bounds of a grant, in hours (upstream's SSH_ACCESS_* defaults).
const (
	DefaultTTLHours = 4.0
	MinTTLHours     = 0.1
	MaxTTLHours     = 24.0
)

// Grant lets one ED25519 key log in to one agent until ExpiresAt.
type Grant struct {
	AgentID string
	// Fingerprint is ssh.FingerprintSHA256 of the key ("SHA256:..."); with AgentID it
	// identifies the grant (the same key may be granted for several agents).
	Fingerprint string
	// PublicKey is the key in authorized_keys form ("ssh-ed25519 AAAA..."), without comment.
	PublicKey string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Store keeps grants. Implementations are safe for concurrent use.
type Store interface {
	// PutSSHGrant stores g, replacing the grant of the same agent and fingerprint (granting
	// a key again moves its expiry).
	PutSSHGrant(ctx context.Context, g *Grant) error
	// SSHGrant returns the grant of key fingerprint for agentID; errdefs.ErrNotFound when
	// there is none.
	SSHGrant(ctx context.Context, agentID, fingerprint string) (*Grant, error)
	// ListSSHGrants returns agentID's grants, oldest first (none: empty, no error).
	ListSSHGrants(ctx context.Context, agentID string) ([]Grant, error)
	// DeleteSSHGrants removes agentID's grants and says how many there were (0 is no error).
	DeleteSSHGrants(ctx context.Context, agentID string) (int, error)
	// DeleteExpiredSSHGrants removes the grants that expired at or before t.
	DeleteExpiredSSHGrants(ctx context.Context, t time.Time) (int, error)
}

// Issued is a grant just made; PrivateKey (OpenSSH PEM) is set only when Paddock generated
// the key pair, and is never stored: this is its one appearance.
type Issued struct {
	Grant
	PrivateKey string
}

// Keys is the grant service: it validates requests, makes and revokes grants, and decides
// logins. Safe for concurrent use.
type Keys struct {
	store Store
	// agentID resolves an agent's current name (the SSH user) to its stable ID.
	agentID func(ctx context.Context, name string) (string, error)
	now     func() time.Time
}

// NewKeys returns the grant service over store. agentID resolves an agent name to its ID
// (errdefs.ErrNotFound when no agent has that name); grants are kept by ID, so they follow a
// rename.
func NewKeys(store Store, agentID func(ctx context.Context, name string) (string, error)) *Keys {
	return &Keys{store: store, agentID: agentID, now: time.Now}
}

// Grant lets a key log in to agentID for ttlHours (MinTTLHours–MaxTTLHours; callers fill in
// DefaultTTLHours when the request has none). publicKey is an `ssh-ed25519` authorized_keys
// line; "" generates a key pair, whose private half is returned once in Issued.PrivateKey.
// Bad input is errdefs.ErrInvalidArgument naming ttl_hours or public_key.
func (k *Keys) Grant(ctx context.Context, agentID, publicKey string, ttlHours float64) (*Issued, error) {
	if math.IsNaN(ttlHours) || ttlHours < MinTTLHours || ttlHours > MaxTTLHours {
		return nil, errdefs.InvalidArgument("ttl_hours must be between %g and %g", MinTTLHours, MaxTTLHours)
	}
	var iss Issued
	var pub ssh.PublicKey
	if strings.TrimSpace(publicKey) != "" {
		var err error
		if pub, err = ParseAuthorizedKey(publicKey); err != nil {
			return nil, err
		}
	} else {
		p, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate key: %w", err)
		}
		block, err := ssh.MarshalPrivateKey(priv, "paddock-"+agentID)
		if err != nil {
			return nil, fmt.Errorf("marshal private key: %w", err)
		}
		iss.PrivateKey = string(pem.EncodeToMemory(block))
		if pub, err = ssh.NewPublicKey(p); err != nil {
			return nil, err
		}
	}
	now := k.now().UTC().Truncate(time.Microsecond)
	iss.Grant = Grant{AgentID: agentID, Fingerprint: ssh.FingerprintSHA256(pub),
		PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))),
		CreatedAt: now, ExpiresAt: now.Add(time.Duration(ttlHours * float64(time.Hour)))}
	if err := k.store.PutSSHGrant(ctx, &iss.Grant); err != nil {
		return nil, err
	}
	return &iss, nil
}

// Revoke removes every grant of agentID (the agent is deleted, or its access withdrawn).
// Sessions logged in with them end within the gateway's recheck interval.
func (k *Keys) Revoke(ctx context.Context, agentID string) error {
	_, err := k.store.DeleteSSHGrants(ctx, agentID)
	return err
}

// Sweep removes expired grants (logins check expiry themselves; this only keeps the table
// small).
func (k *Keys) Sweep(ctx context.Context) (int, error) {
	return k.store.DeleteExpiredSSHGrants(ctx, k.now())
}

// Authorize implements Authorizer: key may log in as agent when a grant for the agent's ID
// holds exactly this key and has not expired.
func (k *Keys) Authorize(ctx context.Context, agent string, key ssh.PublicKey) (*Grant, error) {
	if key.Type() != ssh.KeyAlgoED25519 {
		return nil, errdefs.New(errdefs.ErrUnauthenticated, "only ssh-ed25519 keys are accepted")
	}
	id, err := k.agentID(ctx, agent)
	if err != nil {
		return nil, err
	}
	g, err := k.store.SSHGrant(ctx, id, ssh.FingerprintSHA256(key))
	if err != nil {
		return nil, err
	}
	granted, err := ParseAuthorizedKey(g.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("stored grant of %s: %w", id, err)
	}
	// The fingerprint found the row; the key itself must match too, in constant time.
	if subtle.ConstantTimeCompare(granted.Marshal(), key.Marshal()) != 1 {
		return nil, errdefs.New(errdefs.ErrUnauthenticated, "key not granted")
	}
	if !k.now().Before(g.ExpiresAt) {
		return nil, errdefs.New(errdefs.ErrUnauthenticated, "key expired at %s", g.ExpiresAt.Format(time.RFC3339))
	}
	return g, nil
}

// ParseAuthorizedKey parses one authorized_keys line holding an ssh-ed25519 key (options and
// a comment allowed, as OpenSSH writes them). Anything else is errdefs.ErrInvalidArgument
// naming public_key.
func ParseAuthorizedKey(line string) (ssh.PublicKey, error) {
	if len(line) > 16<<10 {
		return nil, errdefs.InvalidArgument("public_key is too long")
	}
	line = strings.TrimSpace(line)
	if strings.ContainsAny(line, "\n\r") {
		return nil, errdefs.InvalidArgument("public_key must be a single authorized_keys line")
	}
	pub, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil || len(rest) != 0 {
		return nil, errdefs.InvalidArgument("public_key is not an OpenSSH public key (ssh-ed25519 AAAA...)")
	}
	if pub.Type() != ssh.KeyAlgoED25519 {
		return nil, errdefs.InvalidArgument("public_key must be an ssh-ed25519 key, not %s", pub.Type())
	}
	return pub, nil
}
