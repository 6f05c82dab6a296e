package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/testenv"
	"github.com/paddock/paddock/internal/testenv/kubetest"
)

// TestKubeTrinity runs a Trinity agent on `paddock serve --driver kube`: its workspace is a
// PersistentVolumeClaim, a file written in it survives the agent's stop and start (a new
// pod), and deleting the agent deletes the claim.
func TestKubeTrinity(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t)
	class := c.StorageClass(t, 2) // the workspace and the shared folder
	addr := servertest.FreeAddr(t)
	p := servertest.StartProcess(t, addr, testenv.PaddockBinary(t), "serve", "--listen", addr,
		"--data-dir", testenv.TempDir(t), "--api-key", servertest.Key, "--pool-size", "0",
		"--driver", "kube", "--kubeconfig", c.Kubeconfig, "--kube-namespace", ns, "--kube-guest-image", c.GuestImage,
		"--kube-base-image", c.BaseImage, "--kube-request-percent", "10", "--kube-storage-class", class, "--kube-volume-size-mb", "64")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", p.Logs)
		}
	})
	call := func(method, path string, body any) (int, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			j, _ := json.Marshal(body)
			rd = bytes.NewReader(j)
		}
		req, _ := http.NewRequest(method, p.URL+"/api/agents"+path, rd)
		req.Header.Set("Authorization", "Bearer "+servertest.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, raw
	}
	ctx := context.Background()

	start := time.Now()
	code, raw := call("POST", "", map[string]any{"name": "keeper", "runtime": "shell",
		"resources": map[string]string{"cpu": "1", "memory": "512m"}})
	if code != 200 {
		t.Fatalf("create agent: %d %s", code, raw)
	}
	t.Logf("agent create → running (workspace claim made, bound at the pod's scheduling): %s", time.Since(start).Round(time.Millisecond))
	var ag struct {
		ContainerID string `json:"container_id"`
	}
	if err := json.Unmarshal(raw, &ag); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { call("DELETE", "/keeper", nil) })
	claims, err := c.Client.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{LabelSelector: "paddock.volume.id"})
	if err != nil || len(claims.Items) != 1 {
		t.Fatalf("claims after the agent's create: %v, %v; want its workspace", claims, err)
	}

	pc := client.New(p.URL, servertest.Key)
	res, err := pc.Exec(ctx, ag.ContainerID, apitype.ExecRequest{Command: []string{"sh", "-c", "pwd; echo kept > /home/developer/note.txt"}, User: "root"})
	if err != nil || res.ExitCode != 0 || res.Stdout != "/home/developer\n" {
		t.Fatalf("write in the workspace: %+v, %v", res, err)
	}
	for _, step := range []string{"/keeper/stop", "/keeper/start"} {
		start := time.Now()
		if code, raw := call("POST", step, nil); code != 200 {
			t.Fatalf("POST %s: %d %s", step, code, raw)
		}
		t.Logf("POST %s: %s", step, time.Since(start).Round(time.Millisecond))
	}
	if code, raw := call("GET", "/keeper/files/download?path=note.txt", nil); code != 200 || string(raw) != "kept\n" {
		t.Errorf("workspace file after stop and start (a new pod): %d %q", code, raw)
	}

	// Read-only mode: the workspace mounted read-only, output/ (a sub-path of it) writable,
	// and the shared folder it exposes mounted inside it (at shared-out, which the workspace
	// did not have).
	if code, raw := call("PUT", "/keeper/folders", map[string]any{"expose_enabled": true}); code != 200 {
		t.Fatalf("expose folder: %d %s", code, raw)
	}
	if code, raw := call("POST", "/keeper/stop", nil); code != 200 {
		t.Fatalf("stop: %d %s", code, raw)
	}
	if code, raw := call("PUT", "/keeper/read-only", map[string]any{"enabled": true}); code != 200 {
		t.Fatalf("read-only: %d %s", code, raw)
	}
	if code, raw := call("POST", "/keeper/start", nil); code != 200 {
		t.Fatalf("start with a read-only workspace and a shared folder: %d %s", code, raw)
	}
	sh := func(cmd string) *client.ExecResult {
		t.Helper()
		res, err := pc.Exec(ctx, ag.ContainerID, apitype.ExecRequest{Command: []string{"sh", "-c", cmd}, User: "root"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := sh("echo x > /home/developer/tool.py"); res.ExitCode == 0 {
		t.Errorf("a process wrote *.py in read-only mode: %+v", res)
	}
	if res := sh("echo x > /home/developer/output/x.txt && cat /home/developer/output/x.txt /home/developer/note.txt"); res.ExitCode != 0 || res.Stdout != "x\nkept\n" {
		t.Errorf("output/ in read-only mode: %+v", res)
	}
	if res := sh("echo s > /home/developer/shared-out/s.txt && cat /home/developer/shared-out/s.txt"); res.ExitCode != 0 || res.Stdout != "s\n" {
		t.Errorf("shared-out in read-only mode: %+v", res)
	}

	if code, raw := call("DELETE", "/keeper", nil); code != 200 {
		t.Fatalf("delete agent: %d %s", code, raw)
	}
	claims, err = c.Client.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{LabelSelector: "paddock.volume.id"})
	if err != nil || len(claims.Items) != 0 {
		t.Errorf("claims after the agent's delete: %d, %v; want none", len(claims.Items), err)
	}
}
