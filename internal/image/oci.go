package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// ociStore keeps pulled and imported images: every layer unpacked once into
// layers/<diff-id hex> and shared by every image that has it, and one record per reference
// in refs/. Writers (pulls, imports) hold .lock shared from their first layer to their
// record; prune and remove hold it exclusively, so a layer is never removed between being
// unpacked and being recorded, by this process or another on the same data dir.
type ociStore struct {
	dir  string
	regs Registries
	rt   http.RoundTripper // every registry request goes through it
	log  *slog.Logger
	// importLimit is the largest import body (bytes); 0 means no limit.
	importLimit int64

	mu       sync.Mutex
	inflight map[string]*pull // by reference: concurrent pulls of one image share the first
}

type pull struct {
	done chan struct{}
	img  *sandbox.Image
	err  error
	fanout
}

// record is what refs/<ref>.json holds.
type record struct {
	Ref    string              `json:"ref"`
	Digest string              `json:"digest"`
	Layers []string            `json:"layers"` // diff IDs, lowest first
	Config sandbox.ImageConfig `json:"config"`
	Source string              `json:"source,omitempty"` // "import" for imported images
}

func newOCIStore(dir string) (*ociStore, error) {
	for _, d := range []string{"layers", "refs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	return &ociStore{dir: dir, inflight: map[string]*pull{}, rt: newTransport(Registries{}, nil, nil),
		log: slog.New(slog.DiscardHandler)}, nil
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

// get returns a stored image whose layers are all present, or false.
func (s *ociStore) get(ref string) (*sandbox.Image, bool) {
	b, err := os.ReadFile(refFile(s.dir, ref))
	if err != nil {
		return nil, false
	}
	var rec record
	if json.Unmarshal(b, &rec) != nil || rec.Ref != ref {
		return nil, false
	}
	img := s.image(rec)
	for _, l := range img.Layers {
		if _, err := os.Lstat(l); err != nil {
			return nil, false // a layer was removed by hand: pull again
		}
	}
	return img, true
}

// writeRecord saves rec atomically.
func (s *ociStore) writeRecord(rec record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	dst := refFile(s.dir, rec.Ref)
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		_ = os.Remove(tmp)
		return diskError(err, "save image record of "+rec.Ref)
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// resolve returns ref's image, pulling it first when needed.
func (s *ociStore) resolve(ctx context.Context, ref string) (*sandbox.Image, error) {
	parsed, err := parseRef(ref)
	if err != nil {
		return nil, err
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
			p.img, p.err = s.pull(context.WithoutCancel(ctx), ref, parsed, p.report)
			s.mu.Lock()
			delete(s.inflight, ref)
			s.mu.Unlock()
			close(p.done)
		}()
	}
	unsubscribe := p.subscribe(progressFrom(ctx))
	s.mu.Unlock()
	defer unsubscribe()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-p.done:
		return p.img, p.err
	}
}

// parseRef checks an OCI reference.
func parseRef(ref string) (name.Reference, error) {
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return nil, errdefs.InvalidArgument("image reference %q: %v", ref, err)
	}
	if !registryRE.MatchString(parsed.Context().RegistryStr()) {
		return nil, errdefs.InvalidArgument("image reference %q: %q is not a registry host", ref, parsed.Context().RegistryStr())
	}
	return parsed, nil
}

// registryRE is a host name or IP with an optional port; it keeps things like ".." from
// ever reaching a DNS lookup.
var registryRE = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*(:[0-9]{1,5})?$|^\[[0-9a-fA-F:]+\](:[0-9]{1,5})?$`)

// loopback reports whether a registry host is on this machine (plain HTTP is allowed there).
func loopback(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = strings.Trim(host, "[]")
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// lockStore takes the store lock, shared (writers) or exclusive (removers).
func (s *ociStore) lockStore(ctx context.Context, exclusive bool) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(s.dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
		if ctx.Err() != nil {
			err = ctx.Err()
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock image store: %w", err)
	}
	return func() { f.Close() }, nil
}

// diskError classifies a failed write: a full disk is ResourceExhausted with what was
// being written.
func diskError(err error, what string) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return errdefs.New(errdefs.ErrResourceExhausted, "%s: no space left on the device holding the image store; free space or prune images (nothing partial was kept)", what)
	}
	return err
}
