package kube

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

var _ sandbox.ExitWatcher = (*Driver)(nil)

// WatchExit implements sandbox.ExitWatcher with a watch of the unit's pod: the guest exiting
// ends the pod (restart policy Never), and so does a deletion from outside the driver (an
// eviction, kubectl delete). Stop and Delete end the watch before they delete the pod.
func (d *Driver) WatchExit(ctx context.Context, id string, exited func(id string)) error {
	if _, err := d.record(ctx, id); err != nil {
		return err
	}
	p, err := d.c.CoreV1().Pods(d.ns).Get(ctx, objectName(id), metav1.GetOptions{})
	if err != nil || !alive(p) {
		return errdefs.FailedPrecondition("sandbox %q is not running", id)
	}
	w, err := d.c.CoreV1().Pods(d.ns).Watch(context.WithoutCancel(ctx), metav1.ListOptions{
		FieldSelector: "metadata.name=" + p.Name, ResourceVersion: p.ResourceVersion})
	if err != nil {
		return d.apiError("watch sandbox "+id, err)
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.mu.Lock()
	if stop := d.watches[id]; stop != nil {
		stop()
	}
	d.watches[id] = cancel
	d.mu.Unlock()
	stopAfter := context.AfterFunc(ctx, cancel)
	go func() {
		defer w.Stop()
		defer stopAfter()
		if d.waitExit(wctx, w) && d.endWatch(id, wctx) {
			exited(id)
		}
	}()
	return nil
}

// waitExit reports whether the watched pod ended before ctx did.
func (d *Driver) waitExit(ctx context.Context, w watch.Interface) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false // the watch expired: the next reconcile pass notices the exit
			}
			p, isPod := ev.Object.(*corev1.Pod)
			if ev.Type == watch.Deleted || isPod && !alive(p) {
				return true
			}
		}
	}
}

// endWatch removes the watch of id if it is still the one with ctx (not replaced, nor ended
// by Stop or Delete), and reports whether it was.
func (d *Driver) endWatch(id string, ctx context.Context) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ctx.Err() != nil {
		return false
	}
	if stop := d.watches[id]; stop != nil {
		stop()
		delete(d.watches, id)
	}
	return true
}

// unwatch ends the exit watch of id, if any.
func (d *Driver) unwatch(id string) {
	d.mu.Lock()
	if stop := d.watches[id]; stop != nil {
		stop()
		delete(d.watches, id)
	}
	d.mu.Unlock()
}
