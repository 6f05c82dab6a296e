package kube

import (
	"context"
	"errors"
	"net"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/sandbox"
)

// guestAddr is where a running unit's guest listens and the token it wants.
type guestAddr struct {
	ip, token string
}

func (d *Driver) remember(id string, g guestAddr) {
	d.mu.Lock()
	d.guests[id] = g
	d.mu.Unlock()
}

func (d *Driver) forget(id string) {
	d.mu.Lock()
	delete(d.guests, id)
	d.mu.Unlock()
}

// guest returns where the unit's guest listens: remembered since Start, or read from the
// cluster (a unit started by an earlier Paddock).
func (d *Driver) guest(ctx context.Context, id string) (guestAddr, error) {
	d.mu.Lock()
	g, ok := d.guests[id]
	d.mu.Unlock()
	if ok {
		return g, nil
	}
	rec, err := d.record(ctx, id)
	if err != nil {
		return g, err
	}
	p, err := d.c.CoreV1().Pods(d.ns).Get(ctx, objectName(id), metav1.GetOptions{})
	if err != nil || !alive(p) || p.Status.PodIP == "" {
		if err == nil {
			err = errors.New("pod " + p.Name + " has no IP or has ended")
		}
		return g, sandbox.GuestUnreachable(err)
	}
	g = guestAddr{ip: p.Status.PodIP, token: string(rec.secret.Data[tokenKey])}
	d.remember(id, g)
	return g, nil
}

// Dial implements sandbox.Driver: a TCP connection to the guest in the unit's pod that has
// presented the unit's token.
func (d *Driver) Dial(ctx context.Context, id string) (net.Conn, error) {
	g, err := d.guest(ctx, id)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return nil, err
		}
		return nil, sandbox.GuestUnreachable(err)
	}
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(g.ip, strconv.Itoa(d.cfg.Port)))
	if err != nil {
		d.forget(id) // the pod may have been replaced: read it again next time
		return nil, sandbox.GuestUnreachable(err)
	}
	if _, err := c.Write(guestproto.TokenPreamble(g.token)); err != nil {
		c.Close()
		d.forget(id)
		return nil, sandbox.GuestUnreachable(err)
	}
	return c, nil
}
