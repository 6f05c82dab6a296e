// Package sshgate is Paddock's SSH gateway to Trinity agents: one SSH server on its own port
// that authenticates time-limited ED25519 keys granted per agent (the SSH user is the
// agent's name) and runs the session's shell or command inside the agent's sandbox through
// the guest, so images need no sshd and agents no port of their own.
package sshgate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paddock/paddock/internal/manager"
)

// Authorizer decides logins. Keys implements it. Safe for concurrent use.
type Authorizer interface {
	// Authorize returns the grant that lets key log in as agent (an agent name), or an
	// error when there is none, it expired, or the agent does not exist.
	Authorize(ctx context.Context, agent string, key ssh.PublicKey) (*Grant, error)
}

// Process is a process running in an agent's sandbox; *manager.Process implements it (see
// its documentation for the contract of each method).
type Process interface {
	Next() (*manager.Output, *manager.Exit, error)
	SendStdin(ctx context.Context, data []byte, tty bool) error
	CloseStdin(ctx context.Context) error
	Resize(ctx context.Context, size manager.TTYSize) error
	Signal(ctx context.Context, sig syscall.Signal) error
	Close()
}

// Opener starts processes in agents. The fleet implements it (agent name → its sandbox →
// manager.StartProcess); it chooses the user (cmd.User is "") and may add environment.
// Safe for concurrent use.
type Opener interface {
	// Open starts cmd in agent's sandbox. ctx is the session's: it ends when the session
	// does. A stopped agent is errdefs.ErrFailedPrecondition, an unknown one ErrNotFound.
	// Return a nil interface, not a typed nil pointer, with an error.
	Open(ctx context.Context, agent string, cmd manager.Command) (Process, error)
}

// Defaults of Config.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMaxAuthTries     = 3
	DefaultMaxConns         = 256
	DefaultRecheck          = 30 * time.Second
)

// DefaultShell is what an interactive session runs: the user's login bash when the image has
// bash, else sh.
var DefaultShell = []string{"/bin/sh", "-c", `if command -v bash >/dev/null 2>&1; then exec bash -l; fi; exec sh -l`}

// Config describes a gateway.
type Config struct {
	HostKey ssh.Signer // see LoadOrCreateHostKey
	Keys    Authorizer
	Opener  Opener
	Logger  *slog.Logger
	// HandshakeTimeout bounds the SSH handshake and authentication of a connection.
	HandshakeTimeout time.Duration
	// MaxAuthTries bounds the authentication attempts of one connection.
	MaxAuthTries int
	// MaxConns bounds the open connections; more are closed at once.
	MaxConns int
	// Recheck is how often an open connection's grant is checked again: a revoked key's
	// sessions end within it, an expired key's at its expiry.
	Recheck time.Duration
	// Shell is the interactive session's command (default DefaultShell).
	Shell []string
}

// Server is an SSH gateway. Safe for concurrent use.
type Server struct {
	cfg   Config
	log   *slog.Logger
	slots chan struct{} // one per open connection (MaxConns)

	// ctx ends every connection; cancelled by Close, which waits for wg (every connection
	// goroutine and what it started).
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closed    bool
}

// New returns a gateway; Serve it on a listener.
func New(cfg Config) (*Server, error) {
	if cfg.HostKey == nil || cfg.Keys == nil || cfg.Opener == nil {
		return nil, errors.New("sshgate: HostKey, Keys and Opener are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.MaxAuthTries <= 0 {
		cfg.MaxAuthTries = DefaultMaxAuthTries
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = DefaultRecheck
	}
	if len(cfg.Shell) == 0 {
		cfg.Shell = DefaultShell
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, log: cfg.Logger.With("op", "ssh"), slots: make(chan struct{}, cfg.MaxConns),
		ctx: ctx, cancel: cancel, listeners: map[net.Listener]struct{}{}, conns: map[net.Conn]struct{}{}}, nil
}

// ErrServerClosed is Serve's answer after Close.
var ErrServerClosed = errors.New("sshgate: server closed")

// Serve accepts connections on ln until Close; it closes ln.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer ln.Close()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		select {
		case s.slots <- struct{}{}:
		default:
			s.log.Warn("connection refused: too many open connections", "remote", nc.RemoteAddr().String())
			nc.Close()
			continue
		}
		if !s.track(nc) {
			<-s.slots
			nc.Close()
			return ErrServerClosed
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.slots }()
			defer s.untrack(nc)
			s.handle(nc)
		}()
	}
}

func (s *Server) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[nc] = struct{}{}
	return true
}

func (s *Server) untrack(nc net.Conn) {
	s.mu.Lock()
	delete(s.conns, nc)
	s.mu.Unlock()
	nc.Close()
}

// Close stops accepting, cuts every connection (killing the processes of their sessions)
// and waits for them to end or ctx to.
func (s *Server) Close(ctx context.Context) error {
	s.cancel() // first: Serve tells its listener's closing from a failure by it
	s.mu.Lock()
	s.closed = true
	for ln := range s.listeners {
		ln.Close()
	}
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Extensions of ssh.Permissions the authentication hands to the connection.
const (
	extKey     = "paddock-key" // the wire form of the accepted key
	extExpires = "paddock-expires"
)

// serverConfig is the SSH configuration: public keys only, checked by Keys.
func (s *Server) serverConfig() *ssh.ServerConfig {
	conf := &ssh.ServerConfig{
		MaxAuthTries:  s.cfg.MaxAuthTries,
		ServerVersion: "SSH-2.0-Paddock",
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			ctx, cancel := context.WithTimeout(s.ctx, s.cfg.HandshakeTimeout)
			defer cancel()
			g, err := s.cfg.Keys.Authorize(ctx, meta.User(), key)
			if err != nil {
				s.log.Info("login refused", "agent", meta.User(), "remote", meta.RemoteAddr().String(),
					"fingerprint", ssh.FingerprintSHA256(key), "err", err)
				return nil, fmt.Errorf("key not accepted for %q", meta.User())
			}
			return &ssh.Permissions{Extensions: map[string]string{extKey: string(key.Marshal()),
				extExpires: g.ExpiresAt.Format(time.RFC3339Nano)}}, nil
		},
	}
	conf.AddHostKey(s.cfg.HostKey)
	return conf
}

// handle serves one connection: the handshake (bounded in time), then its session channels
// until the client leaves or the grant ends.
func (s *Server) handle(nc net.Conn) {
	_ = nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.serverConfig())
	if err != nil {
		s.log.Debug("handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
		return
	}
	defer sc.Close()
	_ = nc.SetDeadline(time.Time{})
	agent := sc.User()
	log := s.log.With("agent", agent, "remote", nc.RemoteAddr().String())
	log.Info("login", "fingerprint", fingerprintOf(sc.Permissions))
	go ssh.DiscardRequests(reqs)
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	var sessions sync.WaitGroup
	defer sessions.Wait()
	go s.watchGrant(ctx, sc, agent, log)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "only session channels are supported")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		sessions.Add(1)
		go func() {
			defer sessions.Done()
			(&session{s: s, ctx: ctx, agent: agent, ch: ch, log: log}).serve(creqs)
		}()
	}
	cancel() // the connection is gone: end its sessions' processes
}

// watchGrant closes the connection when its key expires or is no longer granted (revoked,
// agent deleted or renamed), checking at the expiry and every Recheck.
func (s *Server) watchGrant(ctx context.Context, sc *ssh.ServerConn, agent string, log *slog.Logger) {
	key, err := ssh.ParsePublicKey([]byte(sc.Permissions.Extensions[extKey]))
	if err != nil {
		sc.Close()
		return
	}
	expires, _ := time.Parse(time.RFC3339Nano, sc.Permissions.Extensions[extExpires])
	for {
		wait := min(time.Until(expires), s.cfg.Recheck)
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		actx, cancel := context.WithTimeout(ctx, s.cfg.HandshakeTimeout)
		g, err := s.cfg.Keys.Authorize(actx, agent, key)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Info("connection cut: grant ended", "err", err)
			sc.Close()
			return
		}
		expires = g.ExpiresAt
	}
}

func fingerprintOf(p *ssh.Permissions) string {
	if p == nil {
		return ""
	}
	key, err := ssh.ParsePublicKey([]byte(p.Extensions[extKey]))
	if err != nil {
		return ""
	}
	return ssh.FingerprintSHA256(key)
}
