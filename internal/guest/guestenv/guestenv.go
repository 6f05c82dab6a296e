// Package guestenv holds the guest's sandbox-wide settings (environment, default user and
// workdir, access token) and resolves who is calling from a request's headers.
package guestenv

import (
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
)

// DefaultKeepalive is used when a stream request carries no valid Keepalive-Ping-Interval.
const DefaultKeepalive = 90 * time.Second

// Settings are the sandbox-wide values set by the host through POST /init. Safe for
// concurrent use.
type Settings struct {
	mu             sync.RWMutex
	envVars        map[string]string
	defaultUser    string
	defaultWorkdir string
	accessToken    string
	version        int // bumped whenever what processes inherit changes
}

// New returns settings whose default user is defaultUser (a name or numeric uid).
func New(defaultUser string) *Settings {
	return &Settings{envVars: map[string]string{}, defaultUser: defaultUser}
}

// Apply merges an init request: env vars are replaced when given, others set when non-empty.
func (s *Settings) Apply(r guestproto.InitRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.EnvVars != nil && !sameMap(s.envVars, r.EnvVars) {
		s.envVars = make(map[string]string, len(r.EnvVars))
		for k, v := range r.EnvVars {
			s.envVars[k] = v
		}
		s.version++
	}
	if r.DefaultUser != "" && r.DefaultUser != s.defaultUser {
		s.defaultUser = r.DefaultUser
		s.version++
	}
	if r.DefaultWorkdir != "" && r.DefaultWorkdir != s.defaultWorkdir {
		s.defaultWorkdir = r.DefaultWorkdir
		s.version++
	}
	if r.AccessToken != nil {
		s.accessToken = *r.AccessToken
	}
}

// Version identifies the current environment, user and workdir: a process started under an
// older version would not see the current settings.
func (s *Settings) Version() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.version
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// EnvVars returns a copy of the sandbox-wide environment.
func (s *Settings) EnvVars() map[string]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]string, len(s.envVars))
	for k, v := range s.envVars {
		out[k] = v
	}
	return out
}

// DefaultWorkdir is the working directory for processes that name none ("" = user's home).
func (s *Settings) DefaultWorkdir() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.defaultWorkdir
}

// AccessToken is the token every protected request must carry ("" = none required).
func (s *Settings) AccessToken() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.accessToken
}

// User is an OS user inside the sandbox.
type User struct {
	Name string
	UID  uint32
	GID  uint32
	Home string
}

// Caller resolves the user a request acts as: the HTTP Basic username when present
// (password ignored), else the default user. An unknown user is ErrUnauthenticated-class
// with the message "invalid username: <name>".
func (s *Settings) Caller(h http.Header) (*User, error) {
	name, ok := guestproto.BasicUser(h.Get("Authorization"))
	if !ok || name == "" {
		s.mu.RLock()
		name = s.defaultUser
		s.mu.RUnlock()
	}
	return LookupUser(name)
}

// LookupUser finds a user by name or numeric uid in the sandbox's /etc/passwd. A numeric uid
// with no passwd entry resolves to itself with home "/", root without one to uid 0.
func LookupUser(name string) (*User, error) {
	if name == "" {
		name = "root"
	}
	var u *user.User
	var err error
	if _, perr := strconv.ParseUint(name, 10, 32); perr == nil {
		u, err = user.LookupId(name)
		if err != nil {
			uid, _ := strconv.ParseUint(name, 10, 32)
			return &User{Name: name, UID: uint32(uid), GID: uint32(uid), Home: "/"}, nil
		}
	} else {
		u, err = user.Lookup(name)
	}
	if err != nil && name == "root" {
		// Images without /etc/passwd (FROM scratch, a bare busybox) still run as root.
		home := "/root"
		if fi, serr := os.Stat(home); serr != nil || !fi.IsDir() {
			home = "/"
		}
		return &User{Name: "root", Home: home}, nil
	}
	if err != nil {
		return nil, errdefs.New(errdefs.ErrUnauthenticated, "invalid username: %s", name)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	home := u.HomeDir
	if home == "" {
		home = "/"
	}
	return &User{Name: u.Username, UID: uint32(uid), GID: uint32(gid), Home: home}, nil
}

// Keepalive is the stream keepalive interval a request asks for via the
// Keepalive-Ping-Interval header (seconds), or DefaultKeepalive.
func Keepalive(h http.Header) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(guestproto.KeepaliveHeader)))
	if err != nil || n <= 0 {
		return DefaultKeepalive
	}
	return time.Duration(n) * time.Second
}

// ResolvePath expands "~" and makes a relative path absolute against the user's home.
func ResolvePath(p string, u *User) string {
	switch {
	case p == "~":
		p = u.Home
	case strings.HasPrefix(p, "~/"):
		p = filepath.Join(u.Home, p[2:])
	case !filepath.IsAbs(p):
		p = filepath.Join(u.Home, p)
	}
	return filepath.Clean(p)
}
