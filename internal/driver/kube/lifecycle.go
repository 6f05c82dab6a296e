package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Create implements sandbox.Driver: it writes the unit's record (a Secret with its token and
// spec) and its NetworkPolicy. No pod runs until Start.
func (d *Driver) Create(ctx context.Context, spec sandbox.InstanceSpec) (err error) {
	if !idRE.MatchString(spec.ID) {
		return errdefs.InvalidArgument("sandbox ID %q: want 1 to 55 lowercase letters and digits", spec.ID)
	}
	if len(spec.Mounts) > 0 {
		d.volMu.RLock()
		defer d.volMu.RUnlock()
	}
	if err := d.checkSpec(ctx, spec); err != nil {
		return err
	}
	body, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	token := make([]byte, 32)
	if _, err := rand.Read(token); err != nil {
		return err
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: objectName(spec.ID), Namespace: d.ns, Labels: objectLabels(spec),
			Annotations: map[string]string{annInstance: string(body)}},
		Data: map[string][]byte{tokenKey: []byte(hex.EncodeToString(token))},
		Type: corev1.SecretTypeOpaque,
	}
	s, err = d.c.CoreV1().Secrets(d.ns).Create(ctx, s, metav1.CreateOptions{})
	if err != nil {
		if apierrors.IsAlreadyExists(err) {
			return errdefs.AlreadyExists("sandbox %q already exists", spec.ID)
		}
		return d.apiError("create sandbox "+spec.ID, err)
	}
	defer func() {
		if err != nil {
			d.cleanup(ctx, spec.ID)
		}
	}()
	return d.applyPolicy(ctx, &record{secret: s, spec: spec})
}

// checkSpec refuses what the driver cannot honour, before anything is made: egress rules it
// cannot enforce, mounts of unknown volumes or unclean paths, a pod it cannot build.
func (d *Driver) checkSpec(ctx context.Context, spec sandbox.InstanceSpec) error {
	if spec.Network == sandbox.NetworkEgress {
		if err := d.CheckEgress(spec.Egress); err != nil {
			return err
		}
	}
	if err := d.checkMounts(ctx, spec.Mounts); err != nil {
		return err
	}
	_, err := d.pod(&record{secret: &corev1.Secret{}, spec: spec})
	return err
}

// Start implements sandbox.Driver: it creates the unit's pod and waits until it is ready. A
// pod that ended on its own (the guest exited) is replaced.
func (d *Driver) Start(ctx context.Context, id string) (err error) {
	rec, err := d.record(ctx, id)
	if err != nil {
		return err
	}
	pods := d.c.CoreV1().Pods(d.ns)
	if p, err := pods.Get(ctx, objectName(id), metav1.GetOptions{}); err == nil {
		if alive(p) {
			return errdefs.FailedPrecondition("sandbox %q is running", id)
		}
		if err := d.removePod(ctx, id, 0); err != nil {
			return err
		}
	} else if !apierrors.IsNotFound(err) {
		return d.apiError("start sandbox "+id, err)
	}
	p, err := d.pod(rec)
	if err != nil {
		return err
	}
	if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
		return d.apiError("start sandbox "+id, err)
	}
	defer func() {
		if err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_ = d.removePod(cctx, id, 0)
		}
	}()
	ip, err := d.waitReady(ctx, id)
	if err != nil {
		return err
	}
	d.remember(id, guestAddr{ip: ip, token: string(rec.secret.Data[tokenKey])})
	return nil
}

// alive reports whether a pod runs or is on its way to.
func alive(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// Stop implements sandbox.Driver: it deletes the unit's pod (with grace) and keeps its
// record. The pod's writable layer goes with it.
func (d *Driver) Stop(ctx context.Context, id string, grace time.Duration) error {
	if _, err := d.record(ctx, id); err != nil {
		return err
	}
	return d.removePod(ctx, id, grace)
}

// Delete implements sandbox.Driver: it removes the pod, the policy and the record.
func (d *Driver) Delete(ctx context.Context, id string) error {
	if !idRE.MatchString(id) {
		return nil
	}
	if err := d.removePod(ctx, id, 0); err != nil {
		return err
	}
	name := objectName(id)
	if err := d.c.NetworkingV1().NetworkPolicies(d.ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return d.apiError("delete sandbox "+id, err)
	}
	if err := d.c.CoreV1().Secrets(d.ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return d.apiError("delete sandbox "+id, err)
	}
	return nil
}

// cleanup undoes a failed Create.
func (d *Driver) cleanup(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := d.Delete(ctx, id); err != nil {
		d.log.Warn("undo create", "sandbox", id, "err", err)
	}
}

// removePod deletes the unit's pod, if any, and waits until it is gone (the kubelet killed
// its processes), so that a new pod of the same name can follow and List no longer counts it.
func (d *Driver) removePod(ctx context.Context, id string, grace time.Duration) error {
	d.unwatch(id)
	d.forget(id)
	// Never 0: that force-deletes the object at once, while the kubelet may still run the
	// processes, unfiltered once Delete removes the NetworkPolicy. The guest ignores SIGTERM,
	// so each stop costs this second.
	secs := max(1, int64(grace/time.Second))
	pods := d.c.CoreV1().Pods(d.ns)
	err := pods.Delete(ctx, objectName(id), metav1.DeleteOptions{GracePeriodSeconds: &secs})
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return d.apiError("stop sandbox "+id, err)
	}
	wait, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+d.cfg.ReadyTimeout)
	defer cancel()
	for {
		_, err := pods.Get(wait, objectName(id), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if wait.Err() != nil {
			return errdefs.Hide(errdefs.ErrUnavailable, "stop sandbox "+id+": its pod did not go away", err)
		}
		if err := sleep(wait, pollInterval); err != nil {
			return errdefs.Hide(errdefs.ErrUnavailable, "stop sandbox "+id+": its pod did not go away", err)
		}
	}
}

// pollInterval is how often the driver looks at a pod it waits for.
const pollInterval = 50 * time.Millisecond

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// List implements sandbox.Driver: every record, running or not, with its spec's labels,
// plus pods without a record (orphans, listed without labels for the reconciler).
func (d *Driver) List(ctx context.Context) ([]sandbox.Instance, error) {
	secrets, err := d.c.CoreV1().Secrets(d.ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, d.apiError("list sandboxes", err)
	}
	pods, err := d.c.CoreV1().Pods(d.ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, d.apiError("list sandboxes", err)
	}
	running := map[string]bool{}
	for i := range pods.Items {
		if id := pods.Items[i].Labels[sandbox.LabelID]; id != "" {
			running[id] = alive(&pods.Items[i])
		}
	}
	var out []sandbox.Instance
	for i := range secrets.Items {
		s := &secrets.Items[i]
		id := s.Labels[sandbox.LabelID]
		in := sandbox.Instance{ID: id, State: sandbox.StateStopped}
		if running[id] {
			in.State = sandbox.StateRunning
		}
		// A record whose spec cannot be read is listed without labels, for the reconciler.
		if rec, err := parseRecord(s); err == nil {
			in.Labels = rec.spec.Labels
		}
		out = append(out, in)
		delete(running, id)
	}
	for id, up := range running {
		in := sandbox.Instance{ID: id, State: sandbox.StateStopped}
		if up {
			in.State = sandbox.StateRunning
		}
		out = append(out, in)
	}
	return out, nil
}
