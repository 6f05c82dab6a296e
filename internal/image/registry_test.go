package image

import (
	"archive/tar"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	rt "github.com/paddock/paddock/internal/image/registrytest"
)

// These tests pull from a real registry (Debian's docker-registry) on loopback.

// noCredentials points DOCKER_CONFIG at an empty dir, so the host's own file plays no part.
func noCredentials(t *testing.T) { t.Setenv("DOCKER_CONFIG", t.TempDir()) }

func newTestResolver(t *testing.T, opts ...Option) (*Resolver, string) {
	t.Helper()
	needRoot(t)
	dir := t.TempDir()
	r, err := NewResolver(dir, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r, filepath.Join(dir, "images", "oci")
}

func layerDirs(t *testing.T, store string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(store, "layers"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestRegistryPullShareWhiteoutsProgress(t *testing.T) {
	noCredentials(t)
	reg := rt.Start(t, rt.Options{})
	bb, wh := rt.BusyboxLayer(t), rt.WhiteoutLayer(t)
	one := reg.Push(t, "test/one:1", rt.Image(t, bb, wh))
	two := reg.Push(t, "test/two:1", rt.Image(t, bb))
	r, store := newTestResolver(t)

	var wg sync.WaitGroup
	errs := make([]error, 8)
	seen := make([][]Progress, 8) // what each of the concurrent callers was told
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := WithProgress(context.Background(), func(p Progress) { seen[i] = append(seen[i], p) })
			_, errs[i] = r.Resolve(ctx, one)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
		checkProgress(t, seen[i], 2)
	}
	reg.Settle(t)
	bbDigest, _ := bb.Digest()
	if n := reg.Count("GET", "/blobs/"+bbDigest.String()); n != 1 {
		t.Errorf("8 concurrent pulls fetched the busybox blob %d times, want 1", n)
	}
	img, err := r.Resolve(context.Background(), one)
	if err != nil || len(img.Layers) != 2 || img.Config.WorkingDir != "/app" {
		t.Fatalf("resolve: %v %+v", err, img)
	}
	if b, err := os.ReadFile(filepath.Join(img.Layers[0], "bin", "busybox")); err != nil || len(b) < 100000 {
		t.Errorf("busybox not unpacked: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(img.Layers[1], "etc", "removed")); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("whiteout of /etc/removed is not an overlay whiteout: %v %v", fi, err)
	}

	var updates []Progress
	ctx := WithProgress(context.Background(), func(p Progress) { updates = append(updates, p) })
	img2, err := r.Resolve(ctx, two)
	if err != nil || img2.Layers[0] != img.Layers[0] {
		t.Fatalf("the busybox layer is not shared: %v %v", img2, err)
	}
	reg.Settle(t)
	if n := reg.Count("GET", "/blobs/"+bbDigest.String()); n != 1 {
		t.Errorf("the shared layer was downloaded again (%d fetches)", n)
	}
	if len(updates) != 2 || !updates[1].Cached || !updates[1].Done {
		t.Errorf("progress of a pull whose layer is present: %+v", updates)
	}
	if len(layerDirs(t, store)) != 2 {
		t.Errorf("layers: %v, want 2", layerDirs(t, store))
	}
	before := len(reg.Requests())
	if _, err := r.Resolve(context.Background(), two); err != nil {
		t.Fatal(err)
	}
	reg.Settle(t)
	if got := reg.Requests()[before:]; len(got) != 1 { // the Settle marker only
		t.Errorf("resolving a pulled image asked the registry again: %+v", got)
	}
}

// checkProgress checks a pull's updates: a first one naming the layer count, then per
// layer bytes that never go back and a final update with everything.
func checkProgress(t *testing.T, ps []Progress, layers int) {
	t.Helper()
	if len(ps) == 0 || ps[0].Layer != "" || ps[0].Layers != layers {
		t.Fatalf("first update: %+v", ps)
	}
	last := map[int]Progress{}
	for _, p := range ps[1:] {
		prev, seen := last[p.Index]
		if seen && (p.Current < prev.Current || prev.Done) {
			t.Errorf("layer %d went from %+v to %+v", p.Index, prev, p)
		}
		last[p.Index] = p
	}
	for i := 1; i <= layers; i++ {
		p := last[i]
		if !p.Done || p.Total <= 0 || p.Current != p.Total || !strings.HasPrefix(p.Layer, "sha256:") {
			t.Errorf("layer %d ended with %+v", i, p)
		}
	}
}

func TestRegistryDigestMismatchKeepsNothing(t *testing.T) {
	noCredentials(t)
	reg := rt.Start(t, rt.Options{})
	l := rt.Layer(t, rt.Entry{Name: "f", Body: strings.Repeat("content ", 4096)})
	ref := reg.Push(t, "test/tampered:1", rt.Image(t, l))
	d, _ := l.Digest()
	blob := reg.BlobPath(d)
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff // same size, other content: only the digest can tell
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, store := newTestResolver(t)
	_, err = r.Resolve(context.Background(), ref)
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "digest mismatch") || !strings.Contains(err.Error(), reg.Host) {
		t.Fatalf("tampered blob: %v", err)
	}
	if ls := layerDirs(t, store); len(ls) != 0 {
		t.Errorf("a rejected layer left %v", ls)
	}
	if _, ok := r.oci.get(ref); ok {
		t.Error("a rejected image was recorded")
	}
}

func TestRegistryDownNamesTheRegistry(t *testing.T) {
	noCredentials(t)
	reg := rt.Start(t, rt.Options{})
	ref := reg.Push(t, "test/busybox:1", rt.Image(t, rt.BusyboxLayer(t)))
	reg.Stop()
	r, _ := newTestResolver(t)
	_, err := r.Resolve(context.Background(), ref)
	if !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), reg.Host) {
		t.Errorf("registry down: %v (want unavailable naming %s)", err, reg.Host)
	}
}

func TestRegistryAuth(t *testing.T) {
	noCredentials(t)
	reg := rt.Start(t, rt.Options{Auth: true})
	ref := reg.Push(t, "private/busybox:1", rt.Image(t, rt.BusyboxLayer(t)))
	r, _ := newTestResolver(t)
	_, err := r.Resolve(context.Background(), ref)
	if !errors.Is(err, errdefs.ErrPermissionDenied) || !strings.Contains(err.Error(), reg.Host) || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("no credentials: %v", err)
	}
	if reg.Count("", "/v2/") == 0 || !answered(reg, 401) {
		t.Errorf("the registry never answered 401: %+v", reg.Requests())
	}
	reg.DockerConfig(t)
	img, err := r.Resolve(context.Background(), ref)
	if err != nil || len(img.Layers) != 1 {
		t.Fatalf("with credentials from the Docker config: %v", err)
	}
}

func answered(reg *rt.Registry, status int) bool {
	for _, q := range reg.Requests() {
		if q.Status == status {
			return true
		}
	}
	return false
}

func TestRegistryOtherArchitecture(t *testing.T) {
	noCredentials(t)
	reg := rt.Start(t, rt.Options{})
	other := "arm64"
	if hostPlatform.Architecture == "arm64" {
		other = "amd64"
	}
	ref := reg.Push(t, "test/foreign:1", rt.ImageFor(t, other, rt.Layer(t, rt.Entry{Name: "f", Body: "x"})))
	r, store := newTestResolver(t)
	_, err := r.Resolve(context.Background(), ref)
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "linux/"+other) || !strings.Contains(err.Error(), "linux/"+hostPlatform.Architecture) {
		t.Errorf("foreign image: %v (want both platforms named)", err)
	}
	if ls := layerDirs(t, store); len(ls) != 0 {
		t.Errorf("a refused image left layers %v", ls)
	}
}

func TestRegistryHostileLayer(t *testing.T) {
	noCredentials(t)
	reg := rt.Start(t, rt.Options{})
	outside := t.TempDir()
	for name, entries := range map[string][]rt.Entry{
		"dotdot":       {{Name: "../../../../../../" + strings.TrimPrefix(outside, "/") + "/pwned", Body: "x"}},
		"abs symlink":  {{Name: "escape", Typ: tar.TypeSymlink, Link: outside}, {Name: "escape/pwned", Body: "x"}},
		"symlink dir":  {{Name: "d", Typ: tar.TypeSymlink, Link: "/"}, {Name: "d/" + strings.TrimPrefix(outside, "/") + "/pwned", Body: "x"}},
		"hardlink out": {{Name: "h", Typ: tar.TypeLink, Link: "../../../../etc/passwd"}},
	} {
		t.Run(name, func(t *testing.T) {
			ref := reg.Push(t, "test/hostile-"+strings.ReplaceAll(name, " ", "-")+":1", rt.Image(t, rt.Layer(t, entries...)))
			r, store := newTestResolver(t)
			_, err := r.Resolve(context.Background(), ref)
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("hostile layer accepted: %v", err)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Fatalf("a layer wrote outside its directory: %v", ents)
			}
			if ls := layerDirs(t, store); len(ls) != 0 {
				t.Errorf("a rejected layer left %v", ls)
			}
		})
	}
	// An absolute symlink by itself is fine: it is only a name, resolved inside the sandbox.
	ref := reg.Push(t, "test/abslink:1", rt.Image(t, rt.Layer(t, rt.Entry{Name: "etc", Typ: tar.TypeSymlink, Link: "/"})))
	r, _ := newTestResolver(t)
	if _, err := r.Resolve(context.Background(), ref); err != nil {
		t.Errorf("a plain absolute symlink was refused: %v", err)
	}
}

// loopbackDialer maps every address to target (a registry on loopback) and refuses
// anything that is not loopback, so no test traffic can leave the host.
func loopbackDialer(target string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if !loopback(target) {
			return nil, errors.New("test dialer: refusing a non-loopback target")
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", target)
	}
}
