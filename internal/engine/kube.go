package engine

import (
	"errors"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/driver/kube"
)

// KubeSettings configure the kube driver (config.Config's Kube* settings).
type KubeSettings struct {
	Namespace, Kubeconfig, GuestImage, BaseImage, RuntimeClass, Seccomp, Placements string
	NodeSelector, Tolerations                                                       []string
	RequestPercent                                                                  int
	StorageClass, VolumeAccessMode                                                  string
	VolumeMB                                                                        int64
}

func kubeSettings(c config.Config) KubeSettings {
	return KubeSettings{Namespace: c.KubeNamespace, Kubeconfig: c.Kubeconfig, GuestImage: c.KubeGuestImage,
		BaseImage: c.KubeBaseImage, RuntimeClass: c.KubeRuntimeClass, Seccomp: c.KubeSeccomp,
		NodeSelector: c.KubeNodeSelector, Tolerations: c.KubeTolerations, RequestPercent: c.KubeRequestPercent,
		Placements: c.KubePlacements, StorageClass: c.KubeStorageClass, VolumeAccessMode: c.KubeVolumeAccessMode,
		VolumeMB: c.KubeVolumeMB}
}

// openKube builds the kube driver. Pods never belong to a one-shot engine: they would outlive
// it in a namespace the server's reconciler sweeps.
func openKube(cfg Config) (*kube.Driver, error) {
	if cfg.Ephemeral {
		return nil, errors.New("one-shot runs use the runc driver: set driver to runc, or create the sandbox through a server")
	}
	k := cfg.Kube
	rc, err := kubeRESTConfig(k.Kubeconfig)
	if err != nil {
		return nil, err
	}
	// client-go's default client-side limit (5 requests/s, bursts of 10) is shared by every
	// sandbox of the process: ten creates at once, each polling its pod, queued behind it
	// (0.54 creates/s on the test cluster). The API server's priority and fairness protects
	// it from a busy client.
	rc.QPS, rc.Burst = kubeQPS, kubeBurst
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kube driver: %w", err)
	}
	sel, err := kube.ParseNodeSelector(k.NodeSelector)
	if err != nil {
		return nil, err
	}
	tol, err := kube.ParseTolerations(k.Tolerations)
	if err != nil {
		return nil, err
	}
	places, err := kube.ParsePlacements(k.Placements)
	if err != nil {
		return nil, err
	}
	return kube.New(kube.Config{Placements: places, Client: client, Namespace: k.Namespace, GuestImage: k.GuestImage, BaseImage: k.BaseImage,
		RuntimeClassName: k.RuntimeClass, NodeSelector: sel, Tolerations: tol, SeccompProfile: k.Seccomp,
		RequestPercent: k.RequestPercent, StorageClass: k.StorageClass,
		VolumeAccessMode: corev1.PersistentVolumeAccessMode(k.VolumeAccessMode), VolumeDefaultMB: k.VolumeMB, Logger: cfg.Logger.With("driver", "kube")})
}

// The kube driver's client-side rate limit: requests per second, and the burst above it.
const kubeQPS, kubeBurst = 50, 100

// kubeRESTConfig is the kubeconfig given, else the in-cluster service account, else what
// kubectl would use ($KUBECONFIG, ~/.kube/config).
func kubeRESTConfig(path string) (*rest.Config, error) {
	if path != "" {
		rc, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
		}
		return rc, nil
	}
	if rc, err := rest.InClusterConfig(); err == nil {
		return rc, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kube driver: no cluster: not in a pod, and no kubeconfig (--kubeconfig, $KUBECONFIG=%q): %w",
			os.Getenv("KUBECONFIG"), err)
	}
	return rc, nil
}
