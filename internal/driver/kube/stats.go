package kube

import (
	"context"
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Stats implements sandbox.Driver. Usage comes from the kubelet's summary API (through the
// API server's node proxy), which has cumulative CPU time; failing that from the metrics
// API (memory only: it serves CPU as a rate); failing both it is zero, and only the limits
// are reported. PidsLimit is 0: see PidsUnenforced.
func (d *Driver) Stats(ctx context.Context, id string) (*sandbox.Stats, error) {
	rec, err := d.record(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := d.c.CoreV1().Pods(d.ns).Get(ctx, objectName(id), metav1.GetOptions{})
	if err != nil || !alive(p) {
		return nil, errdefs.FailedPrecondition("sandbox %q is not running", id)
	}
	st := &sandbox.Stats{Time: time.Now(), MemoryLimit: uint64(rec.spec.Resources.MemoryMB) << 20}
	rc := d.c.CoreV1().RESTClient()
	if r, ok := rc.(*rest.RESTClient); rc == nil || ok && r == nil {
		return st, nil // a client without REST access (the fake clientset of unit tests)
	}
	if p.Spec.NodeName != "" && d.summaryStats(ctx, rc, p, st) == nil {
		return st, nil
	}
	_ = d.metricsStats(ctx, rc, p, st)
	return st, nil
}

// summary is the part of the kubelet's /stats/summary that Stats reads.
type summary struct {
	Pods []struct {
		PodRef struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"podRef"`
		Containers []struct {
			Name string `json:"name"`
			CPU  *struct {
				UsageCoreNanoSeconds *uint64 `json:"usageCoreNanoSeconds"`
			} `json:"cpu"`
			Memory *struct {
				WorkingSetBytes *uint64 `json:"workingSetBytes"`
				UsageBytes      *uint64 `json:"usageBytes"`
				RSSBytes        *uint64 `json:"rssBytes"`
			} `json:"memory"`
			Rootfs *struct {
				UsedBytes *uint64 `json:"usedBytes"`
			} `json:"rootfs"`
		} `json:"containers"`
		ProcessStats *struct {
			ProcessCount *uint64 `json:"process_count"`
		} `json:"process_stats"`
	} `json:"pods"`
}

func (d *Driver) summaryStats(ctx context.Context, rc rest.Interface, p *corev1.Pod, st *sandbox.Stats) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	raw, err := rc.Get().AbsPath("/api/v1/nodes", p.Spec.NodeName, "proxy", "stats", "summary").DoRaw(ctx)
	if err != nil {
		return err
	}
	var s summary
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	for _, ps := range s.Pods {
		if ps.PodRef.Name != p.Name || ps.PodRef.Namespace != p.Namespace {
			continue
		}
		if ps.ProcessStats != nil && ps.ProcessStats.ProcessCount != nil {
			st.Pids = *ps.ProcessStats.ProcessCount
		}
		for _, c := range ps.Containers {
			if c.Name != containerName {
				continue
			}
			if c.CPU != nil && c.CPU.UsageCoreNanoSeconds != nil {
				st.CPUUsageNs = *c.CPU.UsageCoreNanoSeconds
			}
			if m := c.Memory; m != nil && m.WorkingSetBytes != nil {
				st.MemoryBytes = *m.WorkingSetBytes
				if m.UsageBytes != nil && *m.UsageBytes > *m.WorkingSetBytes {
					st.MemoryCache = *m.UsageBytes - *m.WorkingSetBytes
				}
			}
			if c.Rootfs != nil && c.Rootfs.UsedBytes != nil {
				st.DiskBytes = *c.Rootfs.UsedBytes
			}
		}
		return nil
	}
	return errdefs.NotFound("pod %s not in its node's summary", p.Name)
}

// podMetrics is the part of metrics.k8s.io's PodMetrics that Stats reads.
type podMetrics struct {
	Containers []struct {
		Name  string            `json:"name"`
		Usage map[string]string `json:"usage"`
	} `json:"containers"`
}

func (d *Driver) metricsStats(ctx context.Context, rc rest.Interface, p *corev1.Pod, st *sandbox.Stats) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	raw, err := rc.Get().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces", p.Namespace, "pods", p.Name).DoRaw(ctx)
	if err != nil {
		return err
	}
	var m podMetrics
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	for _, c := range m.Containers {
		if q, err := resource.ParseQuantity(c.Usage["memory"]); c.Name == containerName && err == nil {
			st.MemoryBytes = uint64(q.Value())
		}
	}
	return nil
}
