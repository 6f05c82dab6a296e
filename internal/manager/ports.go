package manager

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/sandbox"
)

// DefaultPort is where routes that name no port send traffic when the sandbox's spec names
// none either (Agent-Sandbox's default).
const DefaultPort = 8080

// AllPorts in Spec.PublicPorts makes every port of the sandbox public (what E2B sandboxes
// get unless created with network.allowPublicTraffic false).
const AllPorts = 0

// auditPortVisibility is the audit event of a port made public or private.
const auditPortVisibility = "port_visibility_changed"

// ValidPort checks that p is a TCP port number (1–65535).
func ValidPort(p int) error {
	if p < 1 || p > 65535 {
		return errdefs.InvalidArgument("port %d: use a number from 1 to 65535", p)
	}
	return nil
}

// validatePorts checks a spec's application port and public ports.
func validatePorts(spec sandbox.Spec) error {
	if spec.Port != 0 {
		if err := ValidPort(spec.Port); err != nil {
			return err
		}
	}
	for _, p := range spec.PublicPorts {
		if p == AllPorts {
			continue
		}
		if err := ValidPort(p); err != nil {
			return errdefs.InvalidArgument("public_ports: port %d: use a number from 1 to 65535 (or 0 for every port)", p)
		}
	}
	return nil
}

// AppPort is the port routes that name none reach: the spec's Port, else DefaultPort.
func AppPort(sb *sandbox.Sandbox) int {
	if sb.Spec.Port != 0 {
		return sb.Spec.Port
	}
	return DefaultPort
}

// PortPublic reports whether port of sb is reachable without credentials.
func PortPublic(sb *sandbox.Sandbox, port int) bool {
	return slices.Contains(sb.Spec.PublicPorts, AllPorts) || slices.Contains(sb.Spec.PublicPorts, port)
}

// TrafficAllowed reports whether a request for port of sb that carries trafficToken ("" =
// none) may pass without an API key: the port is public or the token is the sandbox's.
func TrafficAllowed(sb *sandbox.Sandbox, port int, trafficToken string) bool {
	return PortPublic(sb, port) || ValidTrafficToken(sb, trafficToken)
}

// ValidTrafficToken reports whether token is sb's traffic token, in constant time. Sandboxes
// without a token (made before tokens existed) accept none.
func ValidTrafficToken(sb *sandbox.Sandbox, token string) bool {
	return token != "" && sb.TrafficToken != "" &&
		subtle.ConstantTimeCompare([]byte(token), []byte(sb.TrafficToken)) == 1
}

// PortClosedError is DialPort's error when nothing in the sandbox accepts connections on
// Port. Its class is errdefs.ErrUnavailable; surfaces answer it with 502 naming the port.
type PortClosedError struct{ Port int }

func (e *PortClosedError) Error() string {
	return fmt.Sprintf("nothing is listening on port %d in the sandbox", e.Port)
}

// Unwrap gives the error its class.
func (e *PortClosedError) Unwrap() error { return errdefs.ErrUnavailable }

// DialPort opens a connection to port on a running sandbox's loopback, tunnelled by its
// guest. Nothing listening is a *PortClosedError; a sandbox that is not running is
// ErrFailedPrecondition.
func (m *Manager) DialPort(ctx context.Context, idOrName string, port int) (net.Conn, error) {
	if err := ValidPort(port); err != nil {
		return nil, err
	}
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	conn, err := m.client(sb).DialPort(ctx, port)
	if pc := (*guestclient.PortClosedError)(nil); errors.As(err, &pc) {
		return nil, &PortClosedError{Port: pc.Port}
	}
	return conn, err
}

// SetPortPublic makes port of a sandbox public (reachable through the server without the
// API key or traffic token) or private again, and returns the updated record. Port AllPorts
// (0) stands for every port. Making one port private while every port is public is refused:
// make port 0 private first. Works in any state; the change applies to the next request.
func (m *Manager) SetPortPublic(ctx context.Context, idOrName string, port int, public bool) (*sandbox.Sandbox, error) {
	if port != AllPorts {
		if err := ValidPort(port); err != nil {
			return nil, err
		}
	}
	sb, unlock, err := m.locked(ctx, idOrName, AccessOwn)
	if err != nil {
		return nil, err
	}
	defer unlock()
	ports := slices.DeleteFunc(slices.Clone(sb.Spec.PublicPorts), func(p int) bool { return p == port })
	if public {
		ports = append(ports, port)
		slices.Sort(ports)
	} else if port != AllPorts && slices.Contains(ports, AllPorts) {
		return nil, errdefs.FailedPrecondition("every port of sandbox %q is public: make port 0 private first", sb.Name)
	}
	if len(ports) == 0 {
		ports = nil
	}
	if slices.Equal(ports, sb.Spec.PublicPorts) {
		return sb, nil
	}
	sb.Spec.PublicPorts = ports
	sb.UpdatedAt = m.cfg.Now().UTC()
	if err := m.updateRecord(ctx, sb); err != nil {
		return nil, err
	}
	m.record(ctx, auditPortVisibility, sb.Name, map[string]any{"id": sb.ID, "port": port, "public": public})
	return sb, nil
}
