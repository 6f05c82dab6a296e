package server

import (
	"context"
	"path/filepath"
	"time"

	"github.com/paddock/paddock/internal/sshgate"
)

// SSHAgents is what the SSH gateway needs of the fleet: an agent's ID by its current name,
// and processes in its sandbox. Both answer errdefs.ErrNotFound for an unknown agent.
type SSHAgents interface {
	AgentID(ctx context.Context, name string) (string, error)
	sshgate.Opener
}

// sweepGrantsEvery is how often expired SSH grants are deleted (logins check expiry
// themselves).
const sweepGrantsEvery = 15 * time.Minute

// sshGateway is the SSH gateway of `paddock serve --ssh-listen`.
type sshGateway struct {
	srv        *sshgate.Server
	serve      func() error
	Keys       *sshgate.Keys // POST /api/agents/{name}/ssh-access grants through it
	PublicAddr string        // host:port the answers name
}

// openSSH builds the gateway over the listener the caller bound: its host key is kept in the
// data dir, its grants in the engine's database.
func (s *Server) openSSH(opts Options) error {
	if opts.SSHListener == nil {
		return nil
	}
	agents := opts.SSHAgents
	if agents == nil {
		agents = s.agents
	}
	hk, err := sshgate.LoadOrCreateHostKey(filepath.Join(s.cfg.DataDir, sshgate.HostKeyFile))
	if err != nil {
		return err
	}
	keys := sshgate.NewKeys(s.eng.SSHGrants, agents.AgentID)
	srv, err := sshgate.New(sshgate.Config{HostKey: hk, Keys: keys, Opener: agents, Logger: s.log})
	if err != nil {
		return err
	}
	public := s.cfg.SSHPublicAddr
	if public == "" {
		public = opts.SSHListener.Addr().String()
	}
	ln := opts.SSHListener
	s.ssh = &sshGateway{srv: srv, serve: func() error { return srv.Serve(ln) }, Keys: keys, PublicAddr: public}
	return nil
}

// serveSSH runs the gateway and the sweep of expired grants until ctx ends.
func (s *Server) serveSSH(ctx context.Context) {
	if s.ssh == nil {
		return
	}
	s.log.Info("serving ssh", "addr", s.ssh.PublicAddr)
	go func() {
		if err := s.ssh.serve(); err != nil && err != sshgate.ErrServerClosed {
			s.log.Error("ssh gateway stopped", "err", err)
		}
	}()
	go func() {
		t := time.NewTicker(sweepGrantsEvery)
		defer t.Stop()
		for {
			if _, err := s.ssh.Keys.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("sweep ssh grants", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// closeSSH cuts every SSH session (their processes are killed).
func (s *Server) closeSSH(ctx context.Context) {
	if s.ssh == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.ssh.srv.Close(ctx); err != nil {
		s.log.Error("close ssh gateway", "err", err)
	}
}

// SSHKeys is the SSH gateway's grant service and the address its answers name; nil and ""
// when the gateway is off (no --ssh-listen).
func (s *Server) SSHKeys() (*sshgate.Keys, string) {
	if s.ssh == nil {
		return nil, ""
	}
	return s.ssh.Keys, s.ssh.PublicAddr
}
