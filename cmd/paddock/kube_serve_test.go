package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paddock/paddock/internal/testenv"
	"github.com/paddock/paddock/internal/testenv/kubetest"
)

// TestKubeServe runs a real `paddock serve --driver kube` against the test cluster: a
// sandbox made over the API is a pod whose guest runs commands and keeps files, and
// deleting the sandbox removes the pod and its record.
func TestKubeServe(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t)
	dir := testenv.TempDir(t)
	addr := freeAddr(t)
	cmd := exec.Command(testenv.PaddockBinary(t), "serve", "--data-dir", dir, "--listen", addr, "--pool-size", "0",
		"--driver", "kube", "--kubeconfig", c.Kubeconfig, "--kube-namespace", ns, "--kube-guest-image", c.GuestImage,
		"--kube-base-image", c.BaseImage, "--kube-request-percent", "10")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	up := false
	for i := 0; i < 500 && !up; i++ {
		if resp, err := http.Get("http://" + addr + "/health"); err == nil {
			resp.Body.Close()
			up = true
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !up {
		t.Fatalf("server did not come up:\n%s", logs.String())
	}
	env := []string{"PADDOCK_HOST=http://" + addr, "PADDOCK_DATA_DIR=" + dir}
	must := func(args ...string) string {
		t.Helper()
		out, errOut, code := cli(t, env, "", args...)
		if code != 0 {
			t.Fatalf("paddock %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}

	start := time.Now()
	must("sandbox", "create", "box", "--memory", "256")
	t.Logf("create → running: %s", time.Since(start).Round(time.Millisecond))
	pods, err := c.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=paddock"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods after create: %v, %v; want one", pods, err)
	}
	pod := pods.Items[0].Name

	start = time.Now()
	if out := must("exec", "box", "--", "echo", "hello from a pod"); out != "hello from a pod\n" {
		t.Errorf("exec: %q", out)
	}
	t.Logf("exec echo round trip (CLI process included): %s", time.Since(start).Round(time.Millisecond))
	// The guest's connection token is in no process's environment, nor readable from the
	// guest's own (it is not dumpable).
	out, _, _ := cli(t, env, "", "exec", "box", "--", "sh", "-c", "env; cat /proc/1/environ; echo; echo end")
	if strings.Contains(out, "PADDOCK_GUEST_TOKEN") || !strings.Contains(out, "end") {
		t.Errorf("the guest token is visible in the sandbox:\n%s", out)
	}
	local := filepath.Join(dir, "local.txt")
	if err := os.WriteFile(local, []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	must("cp", local, "box:/tmp/in.txt")
	if out := must("exec", "box", "--", "cat", "/tmp/in.txt"); out != "from the host\n" {
		t.Errorf("file written through the API, read by a process: %q", out)
	}
	must("cp", "box:/tmp/in.txt", filepath.Join(dir, "back.txt"))
	if b, _ := os.ReadFile(filepath.Join(dir, "back.txt")); string(b) != "from the host\n" {
		t.Errorf("cp round trip: %q", b)
	}

	must("sandbox", "rm", "box")
	ctx := context.Background()
	if _, err := c.Client.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("pod %s after delete: %v, want not found", pod, err)
	}
	if _, err := c.Client.CoreV1().Secrets(ns).Get(ctx, pod, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("record %s after delete: %v, want not found", pod, err)
	}
}
