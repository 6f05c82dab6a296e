package kube

import (
	"context"

	corev1 "k8s.io/api/core/v1"
)

// BuildPod is the pod Start would create for id.
func BuildPod(ctx context.Context, d *Driver, id string) (*corev1.Pod, error) {
	rec, err := d.record(ctx, id)
	if err != nil {
		return nil, err
	}
	return d.pod(rec)
}

// Stuck says why a pod will not become ready ("" while it may).
var Stuck = stuck
