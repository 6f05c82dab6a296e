package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/testenv"
)

// serveProcess starts `paddock serve` on a free loopback port and waits for /health.
func serveProcess(t *testing.T, dataDir, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(testenv.PaddockBinary(t), "serve", "--data-dir", dataDir, "--listen", addr, "--pool-size", "1",
		"--egress-dns", testenv.NoDNS)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// After the server ends, its sandboxes (claimed ones outlive a server by design) and
	// anything a killed server left are removed, before the data dir goes.
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		sweepServe(t, dataDir)
	})
	for i := 0; i < 300; i++ {
		if resp, err := http.Get("http://" + addr + "/health"); err == nil {
			resp.Body.Close()
			return cmd
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server did not come up:\n%s", logs.String())
	return nil
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// cli runs a paddock client command against the server and returns stdout, stderr, code.
func cli(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testenv.PaddockBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// fetchPy prints the body of argv[1], or "ERR ..." when the request fails.
const fetchPy = `
import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())
except Exception as e:
    print("ERR", type(e).__name__, e)
`

func TestCLIAgainstServerAndKill9Recovery(t *testing.T) {
	testenv.NeedRunc(t)
	inet := testenv.StartInternet(t, netip.MustParsePrefix("198.51.100.0/24"))
	site := inet.URL() + "/"
	dir := testenv.TempDir(t)
	addr := freeAddr(t)
	srv := serveProcess(t, dir, addr)
	key, err := os.ReadFile(filepath.Join(dir, "api-key"))
	if err != nil || !strings.HasPrefix(string(key), "e2b_") {
		t.Fatalf("generated key file: %q %v", key, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "api-key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	// The key is found through the data dir.
	env := []string{"PADDOCK_HOST=http://" + addr, "PADDOCK_DATA_DIR=" + dir}
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := cli(t, env, stdin, args...)
		if code != 0 {
			t.Fatalf("paddock %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	must("", "sandbox", "create", "box", "--memory", "256", "-e", "GREETING=hi")
	if out := must("", "sandbox", "ls"); !strings.Contains(out, "box") || !strings.Contains(out, "running") || !strings.Contains(out, "256MiB") {
		t.Errorf("ls:\n%s", out)
	}
	if out := must("", "sandbox", "ls", "--json"); !strings.Contains(out, `"name": "box"`) {
		t.Errorf("ls --json:\n%s", out)
	}
	if out, _, code := cli(t, env, "", "exec", "box", "--", "sh", "-c", "echo $GREETING; exit 7"); code != 7 || out != "hi\n" {
		t.Errorf("exec: code %d out %q", code, out)
	}
	if out := must("piped input", "exec", "box", "--", "cat"); out != "piped input" {
		t.Errorf("exec stdin: %q", out)
	}
	if out := must("interactive input\n", "exec", "-i", "box", "--", "cat"); out != "interactive input\n" {
		t.Errorf("exec -i: %q", out)
	}
	if out, _, code := cli(t, env, "", "exec", "-it", "box", "--", "sh", "-c", "tty; stty size; exit 5"); code != 5 ||
		!strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "24 80") {
		t.Errorf("exec -it: code %d out %q", code, out)
	}
	local := filepath.Join(dir, "local.txt")
	_ = os.WriteFile(local, []byte("from the host\n"), 0o644)
	must("", "cp", local, "box:/workspace/in.txt")
	must("", "cp", "box:/workspace/in.txt", filepath.Join(dir, "back.txt"))
	if b, _ := os.ReadFile(filepath.Join(dir, "back.txt")); string(b) != "from the host\n" {
		t.Errorf("cp round trip: %q", b)
	}
	if out := must("", "run", "--", "sh", "-c", "echo remote"); out != "remote\n" {
		t.Errorf("run --host: %q", out)
	}
	if out := must("", "logs", "box"); !strings.Contains(out, "sandbox_created") || !strings.Contains(out, "file_written") {
		t.Errorf("logs:\n%s", out)
	}
	if _, errOut, code := cli(t, []string{"PADDOCK_HOST=http://" + addr, "PADDOCK_API_KEY=wrong"}, "", "sandbox", "ls"); code == 0 || !strings.Contains(errOut, "401") {
		t.Errorf("wrong key: code %d %s", code, errOut)
	}
	if out := must("", "exec", "box", "--", "python3", "-c", fetchPy, site); out != "hello from "+inet.Addr.String()+"\n" {
		t.Errorf("egress before kill -9: %q", out)
	}
	eventsBefore := must("", "logs", "box", "--json")

	// kill -9 the server, start it again: the sandbox is still there, running, and usable.
	// First let the warm pools refill (claims above emptied them): a server killed while its
	// runtime is still starting a warm sandbox leaves a container that appears after the new
	// server's start-up reconcile has looked, and that nobody deletes — in this test, a guest
	// outliving its data dir.
	deadline := time.Now().Add(2 * time.Minute)
	for poolReady(addr, strings.TrimSpace(string(key))) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	_ = srv.Process.Signal(syscall.SIGKILL)
	_ = srv.Wait()
	serveProcess(t, dir, addr)
	if out := must("", "sandbox", "inspect", "box"); !strings.Contains(out, `"status": "running"`) {
		t.Errorf("after kill -9: %s", out)
	}
	if out := must("", "exec", "box", "--", "cat", "/workspace/in.txt"); out != "from the host\n" {
		t.Errorf("exec after restart: %q", out)
	}
	// The sandbox's network died with the server; the new one reconnected it.
	if out := must("", "exec", "box", "--", "python3", "-c", fetchPy, site); out != "hello from "+inet.Addr.String()+"\n" {
		t.Errorf("egress after kill -9: %q", out)
	}
	wantPolicy := "network:    egress\nallow-out:  -\ndeny-out:   198.51.100.0/24\n"
	if out := must("", "sandbox", "network", "box", "--deny-out", "198.51.100.0/24"); out != wantPolicy {
		t.Errorf("sandbox network --deny-out printed %q, want %q", out, wantPolicy)
	}
	// Without flags it shows the policy and changes nothing.
	if out := must("", "sandbox", "network", "box"); out != wantPolicy {
		t.Errorf("sandbox network (show) printed %q, want %q", out, wantPolicy)
	}
	if out := must("", "exec", "box", "--", "python3", "-c", fetchPy, site); !strings.HasPrefix(out, "ERR") {
		t.Errorf("egress after sandbox network --deny-out: %q", out)
	}
	if _, errOut, code := cli(t, env, "", "sandbox", "network", "box", "--clear", "--deny-out", "192.0.2.1"); code == 0 || !strings.Contains(errOut, "--clear") {
		t.Errorf("--clear with entries: exit %d %q", code, errOut)
	}
	must("", "sandbox", "network", "box", "--clear")
	if out := must("", "exec", "box", "--", "python3", "-c", fetchPy, site); out != "hello from "+inet.Addr.String()+"\n" {
		t.Errorf("egress after sandbox network --clear: %q", out)
	}
	eventsAfter := must("", "logs", "box", "--json")
	var before, after []map[string]any
	if json.Unmarshal([]byte(eventsBefore), &before) != nil || json.Unmarshal([]byte(eventsAfter), &after) != nil ||
		len(before) < 5 || len(after) < len(before) || !reflect.DeepEqual(after[:len(before)], before) {
		t.Errorf("audit events acknowledged before kill -9 were lost:\nbefore %s\nafter %s", eventsBefore, eventsAfter)
	}
	must("", "sandbox", "rm", "box")
	if _, errOut, code := cli(t, env, "", "sandbox", "inspect", "box"); code == 0 || !strings.Contains(errOut, "not found") {
		t.Errorf("inspect after rm: %d %s", code, errOut)
	}
}
