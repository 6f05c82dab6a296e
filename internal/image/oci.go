package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// ociStore keeps pulled images: every layer unpacked once into layers/<diff-id hex> and
// shared by every image that has it, and one record per reference in refs/.
type ociStore struct {
	dir string

	mu       sync.Mutex
	inflight map[string]*pull // by reference: concurrent pulls of one image wait for the first
}

type pull struct {
	done chan struct{}
	img  *sandbox.Image
	err  error
}

// record is what refs/<ref>.json holds.
type record struct {
	Ref    string              `json:"ref"`
	Digest string              `json:"digest"`
	Layers []string            `json:"layers"` // diff IDs, lowest first
	Config sandbox.ImageConfig `json:"config"`
}

func newOCIStore(dir string) (*ociStore, error) {
	for _, d := range []string{"layers", "refs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	return &ociStore{dir: dir, inflight: map[string]*pull{}}, nil
}

func refFile(dir, ref string) string {
	safe := strings.NewReplacer("/", "_", ":", "_", "@", "_").Replace(ref)
	return filepath.Join(dir, "refs", safe+".json")
}

func (s *ociStore) layerDir(diffID string) string {
	return filepath.Join(s.dir, "layers", strings.TrimPrefix(diffID, "sha256:"))
}

// image turns a record into a sandbox.Image.
func (s *ociStore) image(rec record) *sandbox.Image {
	img := &sandbox.Image{Ref: rec.Ref, Config: rec.Config}
	for _, l := range rec.Layers {
		img.Layers = append(img.Layers, s.layerDir(l))
	}
	return img
}

// get returns a pulled image, or false.
func (s *ociStore) get(ref string) (*sandbox.Image, bool) {
	b, err := os.ReadFile(refFile(s.dir, ref))
	if err != nil {
		return nil, false
	}
	var rec record
	if json.Unmarshal(b, &rec) != nil {
		return nil, false
	}
	return s.image(rec), true
}

// resolve returns ref's image, pulling it first when needed.
func (s *ociStore) resolve(ctx context.Context, ref string) (*sandbox.Image, error) {
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return nil, errdefs.InvalidArgument("image reference %q: %v", ref, err)
	}
	if !registryRE.MatchString(parsed.Context().RegistryStr()) {
		return nil, errdefs.InvalidArgument("image reference %q: %q is not a registry host", ref, parsed.Context().RegistryStr())
	}
	if img, ok := s.get(ref); ok {
		return img, nil
	}
	s.mu.Lock()
	p, ok := s.inflight[ref]
	if !ok {
		p = &pull{done: make(chan struct{})}
		s.inflight[ref] = p
		go func() {
			p.img, p.err = s.pull(context.WithoutCancel(ctx), ref, parsed)
			s.mu.Lock()
			delete(s.inflight, ref)
			s.mu.Unlock()
			close(p.done)
		}()
	}
	s.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-p.done:
		return p.img, p.err
	}
}

// registryRE is a host name or IP with an optional port; it keeps things like ".." from
// ever reaching a DNS lookup.
var registryRE = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*(:[0-9]{1,5})?$|^\[[0-9a-fA-F:]+\](:[0-9]{1,5})?$`)

// loopback reports whether a registry host is on this machine (plain HTTP is allowed there).
func loopback(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (s *ociStore) pull(ctx context.Context, ref string, parsed name.Reference) (*sandbox.Image, error) {
	if loopback(parsed.Context().RegistryStr()) {
		var err error
		if parsed, err = name.ParseReference(ref, name.Insecure); err != nil {
			return nil, err
		}
	}
	platform := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	img, err := remote.Image(parsed, remote.WithContext(ctx), remote.WithPlatform(platform),
		remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return nil, classifyPull(ref, parsed.Context().RegistryStr(), err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, classifyPull(ref, parsed.Context().RegistryStr(), err)
	}
	if cfg.Architecture != "" && cfg.Architecture != runtime.GOARCH {
		return nil, errdefs.InvalidArgument("image %q is for %s/%s; this host is linux/%s", ref, cfg.OS, cfg.Architecture, runtime.GOARCH)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, classifyPull(ref, parsed.Context().RegistryStr(), err)
	}
	rec := record{Ref: ref, Config: sandbox.ImageConfig{Env: cfg.Config.Env, WorkingDir: cfg.Config.WorkingDir, User: cfg.Config.User}}
	if d, err := img.Digest(); err == nil {
		rec.Digest = d.String()
	}
	for _, l := range layers {
		diffID, err := l.DiffID()
		if err != nil {
			return nil, err
		}
		if err := s.fetchLayer(l, diffID.String()); err != nil {
			return nil, fmt.Errorf("image %q: %w", ref, classifyPull(ref, parsed.Context().RegistryStr(), err))
		}
		rec.Layers = append(rec.Layers, diffID.String())
	}
	b, _ := json.Marshal(rec)
	tmp := refFile(s.dir, ref) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, refFile(s.dir, ref)); err != nil {
		return nil, err
	}
	return s.image(rec), nil
}

// fetchLayer unpacks one layer unless it is already there, checking its diff ID; nothing
// partial is kept on failure.
func (s *ociStore) fetchLayer(l v1.Layer, diffID string) error {
	dst := s.layerDir(diffID)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".unpack-")
	if err != nil {
		return err
	}
	got, err := unpackLayer(rc, tmp)
	if err == nil && got != diffID {
		err = errdefs.InvalidArgument("layer digest mismatch: content is %s, the image says %s", got, diffID)
	}
	if err == nil {
		err = os.Chmod(tmp, 0o755)
	}
	if err == nil {
		if err = os.Rename(tmp, dst); err != nil && errors.Is(err, os.ErrExist) {
			err = nil // another pull finished it first
		}
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
	}
	return err
}

// classifyPull turns registry failures into error classes that name the reference.
func classifyPull(ref, registry string, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case 404:
			return errdefs.NotFound("image %q not found in %s", ref, registry)
		case 401, 403:
			return errdefs.New(errdefs.ErrPermissionDenied, "registry %s refused access to %q: check the credentials in your Docker config", registry, ref)
		}
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) {
		return errdefs.Unavailable("registry %s is unreachable: %v", registry, err)
	}
	return err
}
