package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/paddock/paddock/client"
	rt "github.com/paddock/paddock/internal/image/registrytest"
	"github.com/paddock/paddock/internal/testenv"
)

// TestImageCLI drives `paddock image pull|import|ls|rm|prune` and `paddock run --image`
// against a real server and a real registry on loopback.
func TestImageCLI(t *testing.T) {
	testenv.NeedRunc(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	reg := rt.Start(t, rt.Options{})
	img := rt.Image(t, rt.BusyboxLayer(t), rt.WhiteoutLayer(t))
	ref := reg.Push(t, "cli/busybox:1", img)
	dir := testenv.TempDir(t)
	addr := freeAddr(t)
	serveProcess(t, dir, addr)
	env := []string{"PADDOCK_HOST=http://" + addr, "PADDOCK_DATA_DIR=" + dir}
	must := func(args ...string) (string, string) {
		t.Helper()
		out, errOut, code := cli(t, env, "", args...)
		if code != 0 {
			t.Fatalf("paddock %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out, errOut
	}

	out, progress := must("image", "pull", ref)
	if out != ref+": 2 layers\n" || !strings.Contains(progress, "pulling "+ref+" (2 layers)") ||
		!strings.Contains(progress, "layer 1/2") || !strings.Contains(progress, "layer 2/2") || !strings.Contains(progress, " done ") {
		t.Errorf("pull output %q, progress (stderr is not a terminal: plain lines) %q", out, progress)
	}
	out, _ = must("run", "--image", ref, "--", "sh", "-c", "cat /etc/new; test -e /etc/removed || echo gone")
	if out != "from layer two\ngone\n" {
		t.Errorf("run --host --image: %q", out)
	}

	src := t.TempDir()
	saved := filepath.Join(src, "saved.tar")
	tag, _ := name.NewTag("example/saved:1")
	if err := tarball.WriteToFile(saved, tag, img); err != nil {
		t.Fatal(err)
	}
	rootfs := filepath.Join(src, "rootfs")
	_ = os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755)
	_ = os.WriteFile(filepath.Join(rootfs, "etc", "hello"), []byte("from a directory\n"), 0o644)
	if out, _ := must("image", "import", saved, "local/saved:1"); out != "local/saved:1: 2 layers\n" {
		t.Errorf("import docker save: %q", out)
	}
	if out, _ := must("image", "import", rootfs, "local/dir:1"); out != "local/dir:1: 1 layers\n" {
		t.Errorf("import dir: %q", out)
	}
	out, _ = must("image", "ls")
	for _, want := range []string{ref, "local/saved:1", "local/dir:1", "base"} {
		if !strings.Contains(out, want) {
			t.Errorf("image ls lacks %s:\n%s", want, out)
		}
	}
	out, _ = must("run", "--image", "local/saved:1", "--", "cat", "/etc/new")
	if out != "from layer two\n" {
		t.Errorf("run from an imported image: %q", out)
	}
	if _, errOut, code := cli(t, env, "", "image", "import", filepath.Join(src, "missing.tar"), "x:1"); code == 0 || !strings.Contains(errOut, "missing.tar") {
		t.Errorf("import of a missing file: exit %d %q", code, errOut)
	}

	must("image", "rm", "local/dir:1")
	if out, _ := must("image", "prune"); !strings.HasPrefix(out, "removed ") {
		t.Errorf("prune: %q", out)
	}
	if out, _ := must("image", "ls"); strings.Contains(out, "local/dir:1") {
		t.Errorf("removed image still listed:\n%s", out)
	}

	// One-shot (in-process) run pulls into its own data dir and shows progress on stderr.
	oneShot := testenv.TempDir(t)
	out, errOut, code := cli(t, nil, "", "run", "--data-dir", oneShot, "--image", ref, "--", "cat", "/etc/new")
	if code != 0 || out != "from layer two\n" || !strings.Contains(errOut, "pulling "+ref) {
		t.Errorf("one-shot run --image: exit %d, out %q, stderr %q", code, out, errOut)
	}

	// One-shot run reads the registry settings as serve does: from --config here, a mirror
	// standing in for a registry that is down (a closed loopback port).
	down := freeAddr(t)
	conf := filepath.Join(t.TempDir(), "paddock.json")
	regHost := strings.SplitN(ref, "/", 2)[0]
	if err := os.WriteFile(conf, []byte(`{"registry_mirrors": "`+down+`=`+regHost+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	mirrored := down + "/cli/busybox:1"
	out, errOut, code = cli(t, nil, "", "run", "--config", conf, "--data-dir", testenv.TempDir(t), "--image", mirrored, "--", "cat", "/etc/new")
	if code != 0 || out != "from layer two\n" {
		t.Errorf("one-shot run through a mirror from --config: exit %d, out %q, stderr %q", code, out, errOut)
	}
	// And a bad setting is refused before anything runs, naming it.
	_, errOut, code = cli(t, []string{"PADDOCK_REGISTRY_MIRRORS=nonsense"}, "", "run", "--data-dir", oneShot, "--", "true")
	if code == 0 || !strings.Contains(errOut, "registry") {
		t.Errorf("one-shot run with a malformed PADDOCK_REGISTRY_MIRRORS: exit %d, stderr %q", code, errOut)
	}
}

// TestPullBarOnTerminal checks the terminal rendering: bars redrawn in place, then done.
func TestPullBarOnTerminal(t *testing.T) {
	var buf strings.Builder
	b := &pullBar{w: &buf, tty: true}
	b.update(client.PullProgress{Ref: "r:1", Layers: 2})
	b.update(client.PullProgress{Ref: "r:1", Layer: "sha256:0123456789abcdef", Index: 1, Layers: 2, Current: 50, Total: 100})
	b.update(client.PullProgress{Ref: "r:1", Layer: "sha256:0123456789abcdef", Index: 1, Layers: 2, Current: 100, Total: 100, Done: true})
	b.update(client.PullProgress{Ref: "r:1", Layer: "sha256:fedcba9876543210", Index: 2, Layers: 2, Current: 7, Total: 7, Done: true, Cached: true})
	out := buf.String()
	for _, want := range []string{"pulling r:1 (2 layers)\n", "layer 1/2 0123456789ab  [===============               ] 50 B / 100 B",
		"\x1b[1A\x1b[2Klayer 1/2 0123456789ab  done 100 B", "layer 2/2 fedcba987654  already present"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
}
