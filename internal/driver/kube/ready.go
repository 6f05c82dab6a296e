package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paddock/paddock/internal/errdefs"
)

// errNotReady marks a pod that cannot become ready.
var errNotReady = errors.New("pod not ready")

// waitReady polls the unit's pod until it runs with an IP and its container is ready, and
// returns the IP. A pod that cannot start (image, scheduling, config) fails at once with a
// message saying why.
func (d *Driver) waitReady(ctx context.Context, id string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.ReadyTimeout)
	defer cancel()
	for {
		p, err := d.c.CoreV1().Pods(d.ns).Get(ctx, objectName(id), metav1.GetOptions{})
		if err != nil && ctx.Err() == nil {
			return "", d.apiError("start sandbox "+id, err)
		}
		if err == nil {
			if ip, ok := ready(p); ok {
				return ip, nil
			}
			if why := stuck(p); why != "" {
				return "", errdefs.Hide(errdefs.ErrUnavailable, fmt.Sprintf("start sandbox %s: %s", id, why),
					fmt.Errorf("%w: %s", errNotReady, d.events(context.WithoutCancel(ctx), p)))
			}
		}
		if err := sleep(ctx, pollInterval); err != nil {
			return "", errdefs.Hide(errdefs.ErrUnavailable, fmt.Sprintf("start sandbox %s: its pod was not ready within %s", id, d.cfg.ReadyTimeout),
				fmt.Errorf("%w: %s", errNotReady, d.events(context.WithoutCancel(ctx), p)))
		}
	}
}

// ready returns the IP of a running pod whose sandbox container is ready.
func ready(p *corev1.Pod) (string, bool) {
	if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
		return "", false
	}
	for _, c := range p.Status.ContainerStatuses {
		if c.Name == containerName && c.Ready {
			return p.Status.PodIP, true
		}
	}
	return "", false
}

// stuck says, for a client, why a pod will not become ready without help; "" while it may.
func stuck(p *corev1.Pod) string {
	if p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
		return "the sandbox's guest exited at once"
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable &&
			!strings.Contains(c.Message, volumeWaitMessage) {
			if msg := strings.ToLower(c.Message); strings.Contains(msg, "persistent volume") || strings.Contains(msg, "persistentvolume") {
				return "no node can run it: its volumes cannot be bound or reached there (see the storage class)"
			}
			return "no node can run it (unschedulable: not enough resources, or no node matches its placement)"
		}
	}
	for _, c := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		w := c.State.Waiting
		if w == nil {
			continue
		}
		what := "its image"
		if c.Name == initName {
			what = "the guest image"
		}
		switch w.Reason {
		case "ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName":
			return what + " could not be pulled"
		case "CreateContainerConfigError", "CreateContainerError", "RunContainerError", "CrashLoopBackOff":
			return "its container could not start"
		}
	}
	return ""
}

// events returns the pod's recent events, for the log.
func (d *Driver) events(ctx context.Context, p *corev1.Pod) string {
	if p == nil {
		return "no pod"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	list, err := d.c.CoreV1().Events(d.ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + p.Name})
	if err != nil {
		return "phase " + string(p.Status.Phase) + " (events: " + err.Error() + ")"
	}
	out := "phase " + string(p.Status.Phase)
	for _, e := range list.Items {
		out += "; " + e.Reason + ": " + e.Message
	}
	return out
}
