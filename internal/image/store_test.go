package image

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
	rt "github.com/paddock/paddock/internal/image/registrytest"
)

func TestRegistryPruneKeepsInUse(t *testing.T) {
	noCredentials(t)
	reg := rt.Start(t, rt.Options{})
	bb, wh := rt.BusyboxLayer(t), rt.WhiteoutLayer(t)
	one := reg.Push(t, "test/one:1", rt.Image(t, bb, wh))
	two := reg.Push(t, "test/two:1", rt.Image(t, bb))
	r, store := newTestResolver(t)
	ctx := context.Background()
	imgOne, err := r.Resolve(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, two); err != nil {
		t.Fatal(err)
	}
	// Leftovers of a pull and an import that died.
	_ = os.MkdirAll(filepath.Join(store, "layers", ".unpack-dead"), 0o755)
	_ = os.MkdirAll(filepath.Join(store, "tmp"), 0o700)
	_ = os.WriteFile(filepath.Join(store, "tmp", "import-dead"), []byte("x"), 0o600)

	inUse := map[string]bool{imgOne.Layers[1]: true} // a sandbox runs on image one
	if err := r.RemoveImage(ctx, one, inUse); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(imgOne.Layers[1]); err != nil {
		t.Fatalf("removing an image deleted a layer a sandbox uses: %v", err)
	}
	rep, err := r.PruneImages(ctx, inUse)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != 0 || len(layerDirs(t, store)) != 2 {
		t.Errorf("prune removed in-use or referenced layers: %+v, left %v", rep, layerDirs(t, store))
	}
	if _, err := os.Stat(filepath.Join(store, "tmp", "import-dead")); !os.IsNotExist(err) {
		t.Error("prune kept an import leftover")
	}
	rep, err = r.PruneImages(ctx, nil) // the sandbox is gone
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != 1 || rep.Layers[0] != imgOne.Layers[1] || rep.Bytes <= 0 {
		t.Errorf("prune after the sandbox went: %+v", rep)
	}
	if got := layerDirs(t, store); len(got) != 1 {
		t.Errorf("left %v, want only the layer image two uses", got)
	}
	if _, err := r.Resolve(ctx, two); err != nil {
		t.Errorf("image two broke: %v", err)
	}
}

func TestRegistryMirrorsAndInsecure(t *testing.T) {
	noCredentials(t)
	upstream, mirror := rt.Start(t, rt.Options{}), rt.Start(t, rt.Options{})
	img := rt.Image(t, rt.BusyboxLayer(t))
	mirror.Push(t, "library/paddock-mirrored:1", img)
	upstream.Push(t, "library/paddock-upstream-only:1", img)

	t.Run("docker.io through a mirror", func(t *testing.T) {
		regs, err := ParseRegistries("docker.io="+mirror.Host, "")
		if err != nil {
			t.Fatal(err)
		}
		// The dialer sends everything to the mirror: nothing can reach the real Docker Hub.
		r, _ := newTestResolver(t, WithRegistries(regs), WithDialer(loopbackDialer(mirror.Host)))
		got, err := r.Resolve(context.Background(), "paddock-mirrored:1")
		if err != nil || got.Ref != "paddock-mirrored:1" {
			t.Fatalf("pull through the mirror: %v %+v", err, got)
		}
	})
	t.Run("upstream when the mirror lacks it", func(t *testing.T) {
		regs, err := ParseRegistries(upstream.Host+"="+mirror.Host, "")
		if err != nil {
			t.Fatal(err)
		}
		r, _ := newTestResolver(t, WithRegistries(regs))
		if _, err := r.Resolve(context.Background(), upstream.Host+"/library/paddock-upstream-only:1"); err != nil {
			t.Fatal(err)
		}
		mirror.Settle(t)
		if mirror.Count("", "/library/paddock-upstream-only/manifests/") == 0 {
			t.Error("the mirror was not asked first")
		}
	})
	t.Run("mirror while upstream is down", func(t *testing.T) {
		down := rt.Start(t, rt.Options{})
		downHost := down.Host
		down.Stop()
		regs, err := ParseRegistries(downHost+"="+mirror.Host, "")
		if err != nil {
			t.Fatal(err)
		}
		r, _ := newTestResolver(t, WithRegistries(regs))
		if _, err := r.Resolve(context.Background(), downHost+"/library/paddock-mirrored:1"); err != nil {
			t.Fatalf("the mirror did not stand in for a registry that is down: %v", err)
		}
	})
	for _, host := range []string{"registry.paddock.test", "10.255.0.1"} {
		t.Run("plain HTTP only when configured: "+host, func(t *testing.T) {
			// host resolves (through the dialer) to the registry on loopback, which speaks
			// plain HTTP; it is not loopback by name, so plain HTTP needs configuring.
			ref := host + ":" + strings.Split(upstream.Host, ":")[1] + "/library/paddock-upstream-only:1"
			hostPort := strings.Split(ref, "/")[0]
			r, _ := newTestResolver(t, WithDialer(loopbackDialer(upstream.Host)))
			if _, err := r.Resolve(context.Background(), ref); err == nil {
				t.Fatal("plain HTTP to a registry that is not on loopback worked without configuration")
			}
			regs, err := ParseRegistries("", hostPort)
			if err != nil {
				t.Fatal(err)
			}
			r, _ = newTestResolver(t, WithRegistries(regs), WithDialer(loopbackDialer(upstream.Host)))
			if _, err := r.Resolve(context.Background(), ref); err != nil {
				t.Fatalf("configured insecure registry: %v", err)
			}
		})
	}
}

func TestParseRegistries(t *testing.T) {
	regs, err := ParseRegistries("docker.io=mirror.example.com, docker.io=m2.example.com:5000/hub ,ghcr.io=m3.example.com", "10.0.0.5:5000")
	if err != nil {
		t.Fatal(err)
	}
	if got := regs.Mirrors["index.docker.io"]; len(got) != 2 || got[1] != "m2.example.com:5000/hub" {
		t.Errorf("docker.io mirrors: %v", got)
	}
	if !regs.Insecure["10.0.0.5:5000"] || regs.plainHTTPAllowed("10.0.0.6:5000") || !regs.plainHTTPAllowed("127.0.0.1:5000") {
		t.Errorf("insecure: %v", regs.Insecure)
	}
	ref, _ := name.ParseReference("python:3.12")
	cands, err := regs.candidates(ref)
	if err != nil || len(cands) != 3 || cands[1].String() != "m2.example.com:5000/hub/library/python:3.12" {
		t.Errorf("candidates: %v %v", cands, err)
	}
	for _, bad := range []string{"docker.io", "https://docker.io=x", "docker.io=http://m", "docker.io=bad host"} {
		if _, err := ParseRegistries(bad, ""); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("mirrors %q: %v", bad, err)
		}
	}
	if _, err := ParseRegistries("", "a/b"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("insecure a/b: %v", err)
	}
}

func TestImportEachKind(t *testing.T) {
	needRoot(t)
	img := rt.Image(t, rt.BusyboxLayer(t), rt.WhiteoutLayer(t))
	src := t.TempDir()
	// docker save tarball
	tag, _ := name.NewTag("example/tool:1")
	dockerTar := filepath.Join(src, "docker.tar")
	if err := tarball.WriteToFile(dockerTar, tag, img); err != nil {
		t.Fatal(err)
	}
	// OCI layout directory, and the same as a tar
	layoutDir := filepath.Join(src, "layout")
	lp, err := layout.Write(layoutDir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	layoutTar := filepath.Join(src, "layout.tar")
	writeTarFile(t, layoutTar, layoutDir, false)
	// root filesystem directory, and the same as a gzipped tar
	rootfs := filepath.Join(src, "rootfs")
	if err := os.MkdirAll(filepath.Join(rootfs, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(rootfs, "bin", "tool"), []byte("#!/bin/sh\necho tool\n"), 0o755)
	_ = os.Symlink("tool", filepath.Join(rootfs, "bin", "alias"))
	_ = os.Link(filepath.Join(rootfs, "bin", "tool"), filepath.Join(rootfs, "bin", "hard"))
	_ = unix.Lsetxattr(filepath.Join(rootfs, "bin", "tool"), "user.origin", []byte("test"), 0)
	rootTgz := filepath.Join(src, "rootfs.tar.gz")
	writeTarFile(t, rootTgz, rootfs, true)

	r, store := newTestResolver(t)
	ctx := context.Background()
	for _, c := range []struct{ name, path string }{
		{"imported/docker:1", dockerTar}, {"imported/layout-dir:1", layoutDir}, {"imported/layout-tar:1", layoutTar},
		{"imported/rootfs-dir:1", rootfs}, {"imported/rootfs-tgz:1", rootTgz},
	} {
		info, err := r.ImportPath(ctx, c.name, c.path)
		if err != nil {
			t.Fatalf("import %s: %v", c.path, err)
		}
		got, err := r.Resolve(ctx, c.name)
		if err != nil || len(got.Layers) != len(info.Layers) {
			t.Fatalf("resolve %s: %v", c.name, err)
		}
		top := got.Layers[len(got.Layers)-1]
		if strings.Contains(c.name, "rootfs") {
			if b, err := os.ReadFile(filepath.Join(top, "bin", "hard")); err != nil || !strings.Contains(string(b), "echo tool") {
				t.Errorf("%s: hardlink: %v", c.name, err)
			}
			buf := make([]byte, 16)
			if n, err := unix.Lgetxattr(filepath.Join(top, "bin", "tool"), "user.origin", buf); err != nil || string(buf[:n]) != "test" {
				t.Errorf("%s: xattr: %v", c.name, err)
			}
			continue
		}
		if len(got.Layers) != 2 || got.Config.WorkingDir != "/app" {
			t.Errorf("%s: %+v", c.name, got)
		}
		if fi, err := os.Lstat(filepath.Join(top, "etc", "removed")); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			t.Errorf("%s: whiteout: %v", c.name, err)
		}
	}
	// The three image archives hold the same layers: stored once. The rootfs dir and the
	// rootfs tar hold the same tree but not necessarily the same bytes (times, order).
	if n := len(layerDirs(t, store)); n < 3 || n > 4 {
		t.Errorf("%d layer dirs, want 2 shared image layers plus the root filesystems", n)
	}
	if _, err := r.ImportPath(ctx, "base", rootfs); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("import over the built-in image: %v", err)
	}
}

func TestImportForeignAndTooLarge(t *testing.T) {
	needRoot(t)
	other := "arm64"
	if hostPlatform.Architecture == "arm64" {
		other = "amd64"
	}
	img := rt.ImageFor(t, other, rt.Layer(t, rt.Entry{Name: "f", Body: "x"}))
	var buf bytes.Buffer
	tag, _ := name.NewTag("example/foreign:1")
	if err := tarball.Write(tag, img, &buf); err != nil {
		t.Fatal(err)
	}
	r, store := newTestResolver(t, WithImportLimit(1<<20))
	_, err := r.ImportImage(context.Background(), "foreign:1", bytes.NewReader(buf.Bytes()))
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "linux/"+other) {
		t.Errorf("foreign import: %v", err)
	}
	big := make([]byte, 2<<20)
	_, _ = rand.Read(big)
	_, err = r.ImportImage(context.Background(), "big:1", bytes.NewReader(rt.TarBytes(t, rt.Entry{Name: "big", Body: string(big)})))
	if !errors.Is(err, errdefs.ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(store, "tmp")); len(ents) != 0 {
		t.Errorf("a refused import left %v", ents)
	}
}

func TestDiskFullDuringUnpack(t *testing.T) {
	noCredentials(t)
	needRoot(t)
	reg := rt.Start(t, rt.Options{})
	big := make([]byte, 6<<20)
	_, _ = rand.Read(big) // incompressible: the blob is as large as the file
	ref := reg.Push(t, "test/big:1", rt.Image(t, rt.BusyboxLayer(t), rt.Layer(t, rt.Entry{Name: "big", Body: string(big)})))
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=4m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	var requests atomic.Int64
	r, err := NewResolver(dir, nil, WithTransportWrapper(func(next http.RoundTripper) http.RoundTripper {
		return countingRT{next: next, n: &requests}
	}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Resolve(context.Background(), ref)
	if !errors.Is(err, errdefs.ErrResourceExhausted) || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("disk full: %v", err)
	}
	store := filepath.Join(dir, "images", "oci")
	for _, sub := range []string{"layers", "refs"} {
		ents, _ := os.ReadDir(filepath.Join(store, sub))
		for _, e := range ents {
			// the busybox layer fitted and may stay (it is whole and prunable); nothing partial may
			if strings.HasPrefix(e.Name(), ".") || sub == "refs" {
				t.Errorf("left behind: %s/%s", sub, e.Name())
			}
		}
	}
	if requests.Load() == 0 {
		t.Error("the transport wrapper saw no request")
	}
}

type countingRT struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c countingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}

func writeTarFile(t *testing.T, path, dir string, gz bool) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !gz {
		if err := WriteTar(context.Background(), f, dir); err != nil {
			t.Fatal(err)
		}
		return
	}
	zw := gzip.NewWriter(f)
	if err := WriteTar(context.Background(), zw, dir); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}
