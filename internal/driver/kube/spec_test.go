package kube_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/driver/kube"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/sandbox"
)

const ns = "sandboxes"

// fakeDriver is a driver on client-go's fake clientset: objects are stored, nothing runs.
func fakeDriver(t *testing.T, cfg kube.Config) (*kube.Driver, *fake.Clientset) {
	t.Helper()
	c := fake.NewClientset()
	cfg.Client, cfg.Namespace, cfg.GuestImage, cfg.BaseImage = c, ns, "guest:1", "base:1"
	d, err := kube.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}

// createAndBuild creates a unit from spec and returns the pod Start would make for it.
func createAndBuild(t *testing.T, d *kube.Driver, c *fake.Clientset, spec sandbox.InstanceSpec) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	if err := d.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	p, err := kube.BuildPod(ctx, d, spec.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPodSpec(t *testing.T) {
	d, c := fakeDriver(t, kube.Config{RuntimeClassName: "gvisor", NodeSelector: map[string]string{"pool": "sandboxes"},
		RequestPercent: 50})
	spec := drivertest.NewSpec(t, sandbox.Image{Ref: "base"})
	spec.Labels["not a label key"] = "x"
	spec.Labels["team"] = "not a valid value!"
	spec.Security = sandbox.Security{UID: 1000, GID: 1000, Capabilities: []string{"CAP_CHOWN", "CAP_KILL"},
		ReadOnlyRoot: true, TmpSizeMB: 64}
	spec.Resources = sandbox.Resources{VCPUs: 0.5, MemoryMB: 256, Pids: 256, DiskMB: 1024}
	p := createAndBuild(t, d, c, spec)

	if p.Labels[sandbox.LabelID] != spec.ID || p.Labels["app.kubernetes.io/managed-by"] != "paddock" || p.Labels["suite"] != "drivertest" {
		t.Errorf("labels = %v", p.Labels)
	}
	if _, ok := p.Labels["team"]; ok {
		t.Errorf("an invalid label value reached the pod: %v", p.Labels)
	}
	ps := p.Spec
	if *ps.AutomountServiceAccountToken || *ps.EnableServiceLinks || ps.Hostname != spec.Hostname ||
		ps.RestartPolicy != corev1.RestartPolicyNever || *ps.RuntimeClassName != "gvisor" || ps.NodeSelector["pool"] != "sandboxes" {
		t.Errorf("pod spec = %+v", ps)
	}
	if len(p.OwnerReferences) != 1 || p.OwnerReferences[0].Kind != "Secret" {
		t.Errorf("owner = %+v, want the unit's secret", p.OwnerReferences)
	}
	if len(ps.InitContainers) != 1 || ps.InitContainers[0].Image != "guest:1" {
		t.Fatalf("init containers = %+v", ps.InitContainers)
	}
	ctr := ps.Containers[0]
	if ctr.Image != "base:1" || !slices.Equal(ctr.Command, []string{"/.paddock/bin/paddock", "guest", "--listen", ":49983"}) {
		t.Errorf("container image %s, command %v", ctr.Image, ctr.Command)
	}
	var token *corev1.EnvVar
	for i := range ctr.Env {
		if ctr.Env[i].Name == guestproto.TokenEnv {
			token = &ctr.Env[i]
		}
	}
	if token == nil || token.Value != "" || token.ValueFrom.SecretKeyRef.Name != "paddock-"+spec.ID {
		t.Errorf("token env = %+v, want a reference to the unit's secret", token)
	}
	sc := ctr.SecurityContext
	if *sc.RunAsUser != 1000 || *sc.RunAsGroup != 1000 || *sc.AllowPrivilegeEscalation || !*sc.ReadOnlyRootFilesystem ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
		!slices.Equal(sc.Capabilities.Add, []corev1.Capability{"CHOWN", "KILL"}) ||
		sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("security context = %+v", sc)
	}
	lim, req := ctr.Resources.Limits, ctr.Resources.Requests
	if lim.Cpu().MilliValue() != 500 || req.Cpu().MilliValue() != 250 || lim.Memory().Value() != 256<<20 ||
		req.Memory().Value() != 128<<20 {
		t.Errorf("resources = %+v", ctr.Resources)
	}
	// Read-only root: the writable layer cannot grow, /tmp (64 MiB) and the guest can.
	if got := lim.StorageEphemeral().Value(); got != (64+256)<<20 {
		t.Errorf("ephemeral-storage limit = %d, want %d", got, (64+256)<<20)
	}
	var tmp bool
	for _, m := range ctr.VolumeMounts {
		tmp = tmp || m.MountPath == "/tmp"
		if m.MountPath == "/.paddock/bin" && !m.ReadOnly {
			t.Error("the guest's directory is writable in the sandbox")
		}
	}
	if !tmp {
		t.Error("no /tmp with a read-only root")
	}

	sec, err := c.CoreV1().Secrets(ns).Get(context.Background(), "paddock-"+spec.ID, metav1.GetOptions{})
	if err != nil || len(sec.Data["token"]) != 64 {
		t.Errorf("secret = %+v, %v; want a 64-character token", sec, err)
	}
}

func TestPodSpecImage(t *testing.T) {
	d, c := fakeDriver(t, kube.Config{SeccompProfile: "paddock/default.json"})
	spec := drivertest.NewSpec(t, sandbox.Image{Ref: "python:3.12"})
	p := createAndBuild(t, d, c, spec)
	ctr := p.Spec.Containers[0]
	if ctr.Image != "python:3.12" {
		t.Errorf("image = %s", ctr.Image)
	}
	if sp := ctr.SecurityContext.SeccompProfile; sp.Type != corev1.SeccompProfileTypeLocalhost || *sp.LocalhostProfile != "paddock/default.json" {
		t.Errorf("seccomp = %+v", sp)
	}
	if _, ok := ctr.Resources.Limits[corev1.ResourceEphemeralStorage]; !ok {
		t.Error("no ephemeral-storage limit for the writable layer")
	}
}

func TestNetworkPolicy(t *testing.T) {
	d, c := fakeDriver(t, kube.Config{})
	ctx := context.Background()
	none := drivertest.NewSpec(t, sandbox.Image{})
	none.Network = sandbox.NetworkNone
	if err := d.Create(ctx, none); err != nil {
		t.Fatal(err)
	}
	np, err := c.NetworkingV1().NetworkPolicies(ns).Get(ctx, "paddock-"+none.ID, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(np.Spec.Egress) != 0 || len(np.Spec.PolicyTypes) != 2 || np.Spec.PodSelector.MatchLabels[sandbox.LabelID] != none.ID {
		t.Errorf("policy of a unit without a network = %+v, want egress denied", np.Spec)
	}
	wantClass(t, "set egress without a network", d.SetEgress(ctx, none.ID, sandbox.EgressPolicy{}), errdefs.ErrFailedPrecondition)

	eg := drivertest.NewSpec(t, sandbox.Image{})
	eg.Network = sandbox.NetworkEgress
	eg.Egress = sandbox.EgressPolicy{AllowOut: []string{"10.1.0.0/16"}, DenyOut: []string{"203.0.113.0/24", "10.1.2.0/24"}}
	if err := d.Create(ctx, eg); err != nil {
		t.Fatal(err)
	}
	np, err = c.NetworkingV1().NetworkPolicies(ns).Get(ctx, "paddock-"+eg.ID, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string][]string{}
	for _, r := range np.Spec.Egress {
		for _, p := range r.To {
			if p.IPBlock != nil {
				blocks[p.IPBlock.CIDR] = p.IPBlock.Except
			}
		}
	}
	if ex := blocks["0.0.0.0/0"]; !slices.Contains(ex, "10.0.0.0/8") || !slices.Contains(ex, "169.254.0.0/16") || !slices.Contains(ex, "203.0.113.0/24") {
		t.Errorf("public block excepts %v; want private ranges and the denied CIDR", ex)
	}
	if ex, ok := blocks["10.1.0.0/16"]; !ok || !slices.Equal(ex, []string{"10.1.2.0/24"}) {
		t.Errorf("allowed block excepts %v (present %v); want the narrower deny carved out", ex, ok)
	}

	domain := sandbox.EgressPolicy{DenyOut: []string{"*.example.com"}}
	err = d.SetEgress(ctx, eg.ID, domain)
	wantClass(t, "domain rule", err, errdefs.ErrInvalidArgument)
	if err == nil || !containsAll(err.Error(), "*.example.com", "NetworkPolic") {
		t.Errorf("domain refusal %q does not name the rule and the reason", err)
	}
	eg2 := drivertest.NewSpec(t, sandbox.Image{})
	eg2.Network, eg2.Egress = sandbox.NetworkEgress, domain
	wantClass(t, "create with a domain rule", d.Create(ctx, eg2), errdefs.ErrInvalidArgument)
	if _, err := c.CoreV1().Secrets(ns).Get(ctx, "paddock-"+eg2.ID, metav1.GetOptions{}); err == nil {
		t.Error("a refused create left its record")
	}
}

func TestFakeLifecycleErrors(t *testing.T) {
	d, _ := fakeDriver(t, kube.Config{})
	ctx := context.Background()
	spec := drivertest.NewSpec(t, sandbox.Image{})
	if err := d.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	wantClass(t, "second create", d.Create(ctx, spec), errdefs.ErrAlreadyExists)
	list, err := d.List(ctx)
	if err != nil || len(list) != 1 || list[0].State != sandbox.StateStopped || list[0].Labels["suite"] != "drivertest" {
		t.Errorf("List = %+v, %v; want the stopped unit with its labels", list, err)
	}
	_, err = d.Stats(ctx, spec.ID)
	wantClass(t, "stats of a stopped unit", err, errdefs.ErrFailedPrecondition)
	unknown := drivertest.RandomID()
	wantClass(t, "start of an unknown unit", d.Start(ctx, unknown), errdefs.ErrNotFound)
	wantClass(t, "stop of an unknown unit", d.Stop(ctx, unknown, 0), errdefs.ErrNotFound)
	if _, err := d.Dial(ctx, unknown); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("dial of an unknown unit: %v", err)
	}
	withMount := drivertest.NewSpec(t, sandbox.Image{})
	withMount.Mounts = []sandbox.Mount{{Volume: "v", Destination: "/mnt"}}
	wantClass(t, "create with a mount of an unknown volume", d.Create(ctx, withMount), errdefs.ErrNotFound)
	if err := d.Delete(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := d.List(ctx); len(list) != 0 {
		t.Errorf("after delete: %+v", list)
	}
}

func TestImages(t *testing.T) {
	for ref, ok := range map[string]bool{"": true, "base": true, "python:3.12": true,
		"registry.example.com/team/app@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": true,
		"UPPER/case": false, "a b": false, "x:": false} {
		img, err := kube.Images{}.Resolve(context.Background(), ref)
		if (err == nil) != ok {
			t.Errorf("Resolve(%q) = %+v, %v; want ok %v", ref, img, err, ok)
		}
		if err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Resolve(%q): %v, want invalid argument", ref, err)
		}
	}
}

func wantClass(t *testing.T, what string, err, class error) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Errorf("%s: %v, want %v class", what, err, class)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestPlacement: a template's placement replaces the default runtime class and adds to the
// default node selector and tolerations; other templates get the defaults.
func TestPlacement(t *testing.T) {
	places, err := kube.ParsePlacements(`{"gpu": {"runtime_class": "kata", "node_selector": ["accel=gpu"],
		"tolerations": ["gpu=true:NoSchedule"]}}`)
	if err != nil {
		t.Fatal(err)
	}
	d, c := fakeDriver(t, kube.Config{RuntimeClassName: "gvisor", NodeSelector: map[string]string{"pool": "sandboxes"},
		Tolerations: []corev1.Toleration{{Key: "sandbox", Operator: corev1.TolerationOpExists}}, Placements: places})
	gpu := drivertest.NewSpec(t, sandbox.Image{})
	gpu.Template = "gpu"
	p := createAndBuild(t, d, c, gpu)
	if *p.Spec.RuntimeClassName != "kata" || p.Spec.NodeSelector["accel"] != "gpu" || p.Spec.NodeSelector["pool"] != "sandboxes" ||
		len(p.Spec.Tolerations) != 2 || p.Spec.Tolerations[1].Key != "gpu" || p.Spec.Tolerations[1].Effect != corev1.TaintEffectNoSchedule {
		t.Errorf("gpu template: runtime class %v, node selector %v, tolerations %+v", *p.Spec.RuntimeClassName, p.Spec.NodeSelector, p.Spec.Tolerations)
	}
	other := drivertest.NewSpec(t, sandbox.Image{})
	other.Template = "base"
	p = createAndBuild(t, d, c, other)
	if *p.Spec.RuntimeClassName != "gvisor" || len(p.Spec.NodeSelector) != 1 || len(p.Spec.Tolerations) != 1 {
		t.Errorf("base template: runtime class %v, node selector %v, tolerations %+v", *p.Spec.RuntimeClassName, p.Spec.NodeSelector, p.Spec.Tolerations)
	}
	for _, bad := range []string{`[]`, `{"t": {"runtime": "x"}}`, `{"t": {"runtime_class": "Not_A_Name"}}`,
		`{"t": {"node_selector": ["novalue"]}}`, `{"t": {"tolerations": ["k:Never"]}}`} {
		if _, err := kube.ParsePlacements(bad); err == nil {
			t.Errorf("ParsePlacements(%s) accepted", bad)
		}
	}
}
