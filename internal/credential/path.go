// Package credential injects credential files (.env, .mcp.json, service account keys...) into
// Trinity agents' workspaces, keeps what each agent was given encrypted at rest so that a
// start injects it again, and seals files into AES-256-GCM bundles (.credentials.enc) that are
// safe to commit.
package credential

import (
	"path"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
)

// Workspace is where an agent's workspace volume is mounted, and what credential paths are
// relative to.
const Workspace = "/home/developer"

// Limits of one inject (or import).
const (
	MaxPathLen   = 512
	MaxFiles     = 100
	MaxFileBytes = 1 << 20
	MaxTotal     = 4 << 20
)

// Well-known credential files, which Status always reports on (as Trinity's agent server).
const (
	EnvFile        = ".env"
	MCPFile        = ".mcp.json"
	BundleFile     = ".credentials.enc"
	maxNameElement = 255
)

// Clean checks a credential path and returns it in canonical form: relative to the
// workspace, with slashes, without "." or empty elements. Absolute paths, "..", NUL and other
// control characters, a trailing slash and overlong paths are refused with an
// errdefs.ErrInvalidArgument-class error naming the path.
func Clean(p string) (string, error) {
	bad := func(why string) (string, error) {
		if len(p) > 80 {
			p = p[:80] + "..."
		}
		return "", errdefs.InvalidArgument("credential path %q: %s", p, why)
	}
	switch {
	case p == "":
		return bad("empty")
	case len(p) > MaxPathLen:
		return bad("longer than 512 bytes")
	case strings.HasPrefix(p, "/"):
		return bad("absolute; give a path relative to the workspace (" + Workspace + ")")
	case strings.HasSuffix(p, "/"):
		return bad("names a directory, not a file")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return bad("contains a control character")
		}
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return bad("leaves the workspace (..)")
		}
		if len(el) > maxNameElement {
			return bad("has a name longer than 255 bytes")
		}
	}
	c := path.Clean(p)
	if c == "." {
		return bad("names the workspace itself")
	}
	return c, nil
}
