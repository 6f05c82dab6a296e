package image

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/paddock/paddock/internal/errdefs"
)

// Registries are per-registry pull settings.
type Registries struct {
	// Mirrors maps a registry host (as RegistryStr of a parsed reference: "index.docker.io"
	// for Docker Hub) to mirrors tried in order before it: "host[:port][/path-prefix]".
	Mirrors map[string][]string
	// Insecure are registry hosts ("host[:port]") reached over plain HTTP although they are
	// not on loopback. Loopback registries always may be.
	Insecure map[string]bool
}

// ParseRegistries reads the server settings: mirrors as comma-separated
// "registry=mirror" pairs (a registry may be named several times; its mirrors are tried in
// that order, then the registry itself) and insecure registries as comma-separated hosts.
func ParseRegistries(mirrors, insecure string) (Registries, error) {
	r := Registries{Mirrors: map[string][]string{}, Insecure: map[string]bool{}}
	for _, pair := range splitComma(mirrors) {
		reg, mirror, ok := strings.Cut(pair, "=")
		if !ok {
			return r, errdefs.InvalidArgument("registry mirror %q: want REGISTRY=MIRROR, e.g. docker.io=mirror.example.com", pair)
		}
		host, err := registryHost(reg)
		if err != nil {
			return r, errdefs.InvalidArgument("registry mirror %q: %v", pair, err)
		}
		mhost, _, _ := strings.Cut(mirror, "/")
		if _, err := registryHost(mhost); err != nil {
			return r, errdefs.InvalidArgument("registry mirror %q: mirror: %v", pair, err)
		}
		if _, err := name.NewRepository(mirror+"/x", name.StrictValidation); err != nil {
			return r, errdefs.InvalidArgument("registry mirror %q: mirror %q is not HOST[:PORT][/PREFIX]: %v", pair, mirror, err)
		}
		r.Mirrors[host] = append(r.Mirrors[host], mirror)
	}
	for _, h := range splitComma(insecure) {
		host, err := registryHost(h)
		if err != nil {
			return r, errdefs.InvalidArgument("insecure registry %q: %v", h, err)
		}
		r.Insecure[host] = true
	}
	return r, nil
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// registryHost normalises a registry name the way references do ("docker.io" becomes
// "index.docker.io") and refuses URLs and paths.
func registryHost(s string) (string, error) {
	if strings.Contains(s, "://") || strings.Contains(s, "/") {
		return "", fmt.Errorf("%q: want a host[:port] without scheme or path", s)
	}
	if !registryRE.MatchString(s) {
		return "", fmt.Errorf("%q is not a host[:port]", s)
	}
	reg, err := name.NewRegistry(s, name.StrictValidation)
	if err != nil {
		return "", err
	}
	return reg.RegistryStr(), nil
}

// plainHTTPAllowed reports whether host may be reached without TLS.
func (r Registries) plainHTTPAllowed(host string) bool {
	return loopback(host) || r.Insecure[host]
}

// candidates lists where ref is looked for: its registry's mirrors in order, then the
// registry itself. Each is parsed as insecure (plain HTTP tried after HTTPS) only where
// that is allowed; the transport refuses plain HTTP everywhere else.
func (r Registries) candidates(ref name.Reference) ([]name.Reference, error) {
	var out []name.Reference
	repo := ref.Context().RepositoryStr()
	for _, m := range r.Mirrors[ref.Context().RegistryStr()] {
		mref, err := r.parse(m + "/" + repo + refSuffix(ref))
		if err != nil {
			return nil, errdefs.InvalidArgument("mirror %s for %q: %v", m, ref, err)
		}
		out = append(out, mref)
	}
	own, err := r.parse(ref.String())
	if err != nil {
		return nil, err
	}
	return append(out, own), nil
}

func (r Registries) parse(s string) (name.Reference, error) {
	ref, err := name.ParseReference(s)
	if err != nil {
		return nil, err
	}
	if r.plainHTTPAllowed(ref.Context().RegistryStr()) {
		return name.ParseReference(s, name.Insecure)
	}
	return ref, nil
}

// refSuffix is ":tag" or "@digest".
func refSuffix(ref name.Reference) string {
	if d, ok := ref.(name.Digest); ok {
		return "@" + d.DigestStr()
	}
	return ":" + ref.Identifier()
}

// guardTransport refuses plain-HTTP requests to hosts where that is not allowed.
// go-containerregistry falls back to HTTP by itself for private (RFC 1918) addresses and
// *.localhost names, which Paddock allows only when configured.
type guardTransport struct {
	next http.RoundTripper
	regs Registries
}

func (g guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.regs.plainHTTPAllowed(req.URL.Host) {
		return nil, errdefs.InvalidArgument("plain HTTP to registry %s refused: it is not on loopback; list it in registry-insecure to allow it", req.URL.Host)
	}
	return g.next.RoundTrip(req)
}

// newTransport builds the HTTP transport for pulls: go-containerregistry's default, with dial
// replaced when set (tests map names to loopback), guarded against plain HTTP.
func newTransport(regs Registries, dial func(ctx context.Context, network, addr string) (net.Conn, error), wrap func(http.RoundTripper) http.RoundTripper) http.RoundTripper {
	base := remote.DefaultTransport.(*http.Transport).Clone()
	if dial != nil {
		base.DialContext = dial
		base.Proxy = nil
	}
	var rt http.RoundTripper = base
	if wrap != nil {
		rt = wrap(rt)
	}
	return guardTransport{next: rt, regs: regs}
}
