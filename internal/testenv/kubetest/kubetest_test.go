package kubetest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/paddock/paddock/internal/testenv/kubetest"
)

// TestKubeCluster proves the cluster scripts/kube-e2e.sh brings up: both test images run (the
// guest image's binary in an init container, the base image's busybox as the pod's process),
// an emptyDir is shared between them, CNI gives the pod an IP that this process (inside the
// cluster's network namespace) reaches, readiness probes work, and a pod deletes.
func TestKubeCluster(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pods := c.Client.CoreV1().Pods(ns)

	b := make([]byte, 8)
	_, _ = rand.Read(b)
	greeting := hex.EncodeToString(b)
	grace := int64(0)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke"},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: &grace,
			Volumes:                       []corev1.Volume{{Name: "www", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			InitContainers: []corev1.Container{{
				Name: "guest", Image: c.GuestImage, ImagePullPolicy: corev1.PullNever,
				Command: []string{"/paddock", "--version"},
			}},
			Containers: []corev1.Container{{
				Name: "web", Image: c.BaseImage, ImagePullPolicy: corev1.PullNever,
				Command:      []string{"/bin/sh", "-c", `echo "$GREETING" > /www/index.html && exec httpd -f -p 8080 -h /www`},
				Env:          []corev1.EnvVar{{Name: "GREETING", Value: greeting}},
				VolumeMounts: []corev1.VolumeMount{{Name: "www", MountPath: "/www"}},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}},
					PeriodSeconds: 1,
				},
			}},
		},
	}
	start := time.Now()
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod: %v", err)
	}
	got := waitPod(ctx, t, c, ns, pod.Name, func(p *corev1.Pod) bool { return ready(p) && p.Status.PodIP != "" })
	t.Logf("pod ready at %s after %v", got.Status.PodIP, time.Since(start).Round(time.Millisecond))
	if s := got.Status.InitContainerStatuses; len(s) != 1 || s[0].State.Terminated == nil || s[0].State.Terminated.ExitCode != 0 {
		t.Fatalf("guest init container did not exit 0: %+v", s)
	}

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(got.Status.PodIP, "8080")+"/index.html", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET from the pod's IP: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != greeting+"\n" {
		t.Fatalf("GET from the pod: %s %q, want 200 %q", resp.Status, body, greeting+"\n")
	}

	start = time.Now()
	if err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
		t.Fatalf("delete pod: %v", err)
	}
	for {
		if _, err := pods.Get(ctx, pod.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			break
		} else if ctx.Err() != nil {
			t.Fatalf("pod still there: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("pod gone after %v", time.Since(start).Round(time.Millisecond))
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitPod polls the pod until ok accepts it, failing t when it fails or ctx ends.
func waitPod(ctx context.Context, t *testing.T, c *kubetest.Cluster, ns, name string, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last corev1.PodStatus
	for {
		p, err := c.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			last = p.Status
		}
		switch {
		case err == nil && ok(p):
			return p
		case err == nil && (p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded):
			t.Fatalf("pod %s ended: %s %+v", name, p.Status.Phase, p.Status.ContainerStatuses)
		case ctx.Err() != nil:
			t.Fatalf("pod %s not ready: %v (last error %v); last status %+v", name, ctx.Err(), err, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
