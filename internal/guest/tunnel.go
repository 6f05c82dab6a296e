package guest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// TunnelDialTimeout bounds how long the guest tries to reach a port inside the sandbox.
const TunnelDialTimeout = 5 * time.Second

// tunnelHandler answers CONNECT /ports/{port}: it connects to 127.0.0.1:port (then
// [::1]:port) inside the sandbox's network namespace and, once connected, splices bytes both
// ways between that connection and the hijacked guest connection until either side closes.
// This is how the host reaches a sandbox's ports without ever sending traffic to a
// container address. Nothing listening is a 502 whose JSON names the port.
func tunnelHandler(log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		port, err := strconv.Atoi(r.PathValue("port"))
		if err != nil || port < 1 || port > 65535 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": http.StatusBadRequest,
				"message": fmt.Sprintf("port %q: use a number from 1 to 65535", r.PathValue("port"))})
			return
		}
		target, err := dialLocal(r.Context(), port)
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]any{"code": http.StatusBadGateway, "port": port,
				"message": fmt.Sprintf("nothing is listening on port %d in the sandbox", port)})
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			target.Close()
			writeError(w, http.StatusHTTPVersionNotSupported, "port tunnels need HTTP/1.1 CONNECT")
			return
		}
		// The server's header read deadline must not cut the tunnel.
		_ = conn.SetDeadline(time.Time{})
		if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
			conn.Close()
			target.Close()
			return
		}
		// Bytes the client sent right after its CONNECT are already in the server's buffer.
		if n := brw.Reader.Buffered(); n > 0 {
			early, _ := brw.Reader.Peek(n)
			if _, err := target.Write(early); err != nil {
				conn.Close()
				target.Close()
				return
			}
		}
		if log != nil {
			log.Debug("port tunnel open", "port", port)
		}
		splice(conn, target)
	}
}

// dialLocal connects to port on the sandbox's loopback, IPv4 first.
func dialLocal(ctx context.Context, port int) (net.Conn, error) {
	d := net.Dialer{Timeout: TunnelDialTimeout}
	p := strconv.Itoa(port)
	c, err4 := d.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", p))
	if err4 == nil {
		return c, nil
	}
	c, err6 := d.DialContext(ctx, "tcp6", net.JoinHostPort("::1", p))
	if err6 == nil {
		return c, nil
	}
	return nil, errors.Join(err4, err6)
}

// splice copies a→b and b→a until either direction ends, then closes both, which ends the
// other direction too: no goroutine outlives the tunnel. The host side never half-closes (it
// speaks HTTP through the tunnel), so ending on the first EOF loses nothing.
func splice(a, b net.Conn) {
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			a.Close()
			b.Close()
		})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(a, b)
		closeBoth()
	}()
	_, _ = io.Copy(b, a)
	closeBoth()
	<-done
}
