package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/config"
	rt "github.com/paddock/paddock/internal/image/registrytest"
	"github.com/paddock/paddock/internal/server"
	"github.com/paddock/paddock/internal/testenv"
)

// startServer runs a real Paddock server (real runc) on loopback and returns a client.
func startServer(t *testing.T) (*client.Client, string) {
	t.Helper()
	testenv.NeedRunc(t)
	cfg := config.Default()
	cfg.DataDir = testenv.TempDir(t)
	cfg.NoAuth, cfg.PoolSize = true, 0
	srv, err := server.New(context.Background(), cfg, server.Options{Version: "test", GuestBinary: testenv.PaddockBinary(t)},
		slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	c := client.New("http://"+ln.Addr().String(), "")
	t.Cleanup(func() {
		sbs, _ := c.ListSandboxes(context.Background())
		for _, sb := range sbs {
			if err := c.DeleteSandbox(context.Background(), sb.Name); err != nil {
				t.Errorf("cleanup: delete %s: %v", sb.Name, err)
			}
		}
		cancel()
		<-served
	})
	return c, cfg.DataDir
}

func statusOf(err error) int {
	var e *client.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// TestServerImages drives images through the HTTP API with the Go client: a streamed pull
// with progress, a sandbox run from the pulled image (real runc), /run/stream pulling
// first, an import, prune keeping what a sandbox uses, and the error statuses of a
// registry that is down or wants credentials.
func TestServerImages(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	reg := rt.Start(t, rt.Options{})
	bb, wh := rt.BusyboxLayer(t), rt.WhiteoutLayer(t)
	ref := reg.Push(t, "test/busybox:1", rt.Image(t, bb, wh))
	other := reg.Push(t, "test/other:1", rt.Image(t, bb, rt.Layer(t, rt.Entry{Name: "etc/", Typ: tar.TypeDir}, rt.Entry{Name: "etc/other", Body: "other\n"})))
	c, dataDir := startServer(t)
	ctx := context.Background()

	var updates []client.PullProgress
	img, err := c.PullImageStream(ctx, ref, func(p client.PullProgress) { updates = append(updates, p) })
	if err != nil || img.Layers != 2 {
		t.Fatalf("pull: %v %+v", err, img)
	}
	if len(updates) < 3 || updates[0].Layers != 2 || !updates[len(updates)-1].Done {
		t.Errorf("pull progress: %+v", updates)
	}
	if _, err := c.CreateSandbox(ctx, client.CreateRequest{Name: "bb", Image: ref}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Exec(ctx, "bb", client.ExecRequest{Command: []string{"sh", "-c",
		"echo $IMAGE_ENV; pwd; cat /etc/new; test -e /etc/removed || echo removed-gone; test -e /usr/bin || echo no-host-usr"}})
	if err != nil || res.Stdout != "set\n/app\nfrom layer two\nremoved-gone\nno-host-usr\n" {
		t.Fatalf("sandbox from a pulled image: %v %+v", err, res)
	}

	// /run/stream pulls an image it does not have first, reporting it before "creating".
	var stages []string
	err = c.RunStream(ctx, client.RunRequest{Image: other, ExecRequest: client.ExecRequest{Command: []string{"cat", "/etc/other"}}},
		func(ev client.Event) error {
			if ev.Type == "progress" {
				stages = append(stages, ev.Stage)
			}
			if ev.Type == "output" && ev.Content != "other\n" {
				t.Errorf("run output %q", ev.Content)
			}
			return nil
		})
	if err != nil || len(stages) < 3 || stages[0] != "pulling" || !contains(stages, "creating") ||
		indexOf(stages, "creating") < lastIndex(stages, "pulling") {
		t.Errorf("run stream stages: %v %v", stages, err)
	}

	// Import a root filesystem tarball and run from it.
	imported, err := c.ImportImage(ctx, "local/busybox:1", bytes.NewReader(rt.TarBytes(t, rt.BusyboxEntries(t)...)))
	if err != nil || imported.Layers != 1 {
		t.Fatalf("import: %v %+v", err, imported)
	}
	out, err := c.Run(ctx, client.RunRequest{Image: "local/busybox:1", ExecRequest: client.ExecRequest{Command: []string{"cat", "/etc/removed"}}})
	if err != nil || !strings.Contains(out.Stdout, "whites this out") {
		t.Errorf("run from an imported image: %v %+v", err, out)
	}

	// Prune never removes the layers of the running sandbox, even once its image is gone.
	if err := c.RemoveImage(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PruneImages(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = c.Exec(ctx, "bb", client.ExecRequest{Command: []string{"cat", "/etc/new"}})
	if err != nil || res.Stdout != "from layer two\n" {
		t.Fatalf("the sandbox lost its layers to prune: %v %+v", err, res)
	}
	if err := c.DeleteSandbox(ctx, "bb"); err != nil {
		t.Fatal(err)
	}
	pr, err := c.PruneImages(ctx)
	if err != nil || pr.LayersRemoved != 1 || pr.BytesFreed <= 0 {
		t.Errorf("prune once the sandbox is gone: %v %+v (want the whiteout layer only image %s used)", err, pr, ref)
	}
	layers, _ := os.ReadDir(filepath.Join(dataDir, "images", "oci", "layers"))
	// busybox (shared by "other" and by the imported rootfs, whose tar is byte for byte the
	// busybox layer) and other's top layer
	if len(layers) != 2 {
		t.Errorf("layers after prune: %d", len(layers))
	}

	// Bad input over HTTP.
	if _, err := c.PullImage(ctx, reg.Host+"/test/missing:1"); statusOf(err) != http.StatusNotFound || !strings.Contains(err.Error(), "test/missing") {
		t.Errorf("unknown image: %v", err)
	}
	if _, err := c.PullImage(ctx, "Not A Ref"); statusOf(err) != http.StatusBadRequest {
		t.Errorf("malformed reference: %v", err)
	}
	private := rt.Start(t, rt.Options{Auth: true})
	privRef := private.Push(t, "private/busybox:1", rt.Image(t, bb))
	if _, err := c.PullImage(ctx, privRef); statusOf(err) != http.StatusForbidden || !strings.Contains(err.Error(), private.Host) {
		t.Errorf("registry wanting credentials: %v", err)
	}
	private.DockerConfig(t)
	if _, err := c.PullImage(ctx, privRef); err != nil {
		t.Errorf("with credentials in the Docker config: %v", err)
	}
	reg.Stop()
	_, err = c.PullImage(ctx, reg.Host+"/test/gone:1")
	if st := statusOf(err); (st != http.StatusServiceUnavailable && st != http.StatusBadGateway) || !strings.Contains(err.Error(), reg.Host) {
		t.Errorf("registry down: %v (want 502/503 naming %s)", err, reg.Host)
	}
}

func contains(s []string, v string) bool { return indexOf(s, v) >= 0 }

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func lastIndex(s []string, v string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == v {
			return i
		}
	}
	return -1
}
