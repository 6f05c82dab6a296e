package kube

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/netpolicy"
	"github.com/paddock/paddock/internal/sandbox"
)

// privateRanges are what an egress sandbox may not reach unless a rule allows it, as with
// runc's egress filter: RFC 1918, shared, link-local (cloud metadata), reserved, loopback
// and their IPv6 counterparts. The cluster's own pods and services are among them.
var privateRanges = map[bool][]string{
	true: {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4"},
	false: {"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "64:ff9b::/96", "64:ff9b:1::/48"},
}

// CheckEgress implements sandbox.EgressChecker: NetworkPolicies match addresses only, so a
// policy with a domain rule is refused, naming the rule.
func (d *Driver) CheckEgress(p sandbox.EgressPolicy) error {
	if err := netpolicy.Validate(p); err != nil {
		return err
	}
	for _, list := range []struct {
		name    string
		entries []string
	}{{"allowOut", p.AllowOut}, {"denyOut", p.DenyOut}} {
		for _, e := range list.entries {
			if _, ok := parseCIDR(e); !ok {
				return errdefs.InvalidArgument("%s entry %q is a domain name: the kube driver enforces egress with "+
					"Kubernetes NetworkPolicies, which match addresses only; use CIDRs or IP addresses", list.name, e)
			}
		}
	}
	return nil
}

// parseCIDR reads a CIDR or a bare IP address.
func parseCIDR(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

// SetEgress implements sandbox.Networker: it records p in the unit's spec and rewrites its
// NetworkPolicy, which the cluster's network plugin applies to the running pod at once.
func (d *Driver) SetEgress(ctx context.Context, id string, p sandbox.EgressPolicy) error {
	rec, err := d.record(ctx, id)
	if err != nil {
		return err
	}
	if rec.spec.Network != sandbox.NetworkEgress {
		return errdefs.FailedPrecondition("sandbox %q has no network", id)
	}
	if err := d.CheckEgress(p); err != nil {
		return err
	}
	rec.spec.Egress = p
	body, err := json.Marshal(rec.spec)
	if err != nil {
		return err
	}
	rec.secret.Annotations[annInstance] = string(body)
	if rec.secret, err = d.c.CoreV1().Secrets(d.ns).Update(ctx, rec.secret, metav1.UpdateOptions{}); err != nil {
		return d.apiError("set egress of sandbox "+id, err)
	}
	return d.applyPolicy(ctx, rec)
}

// applyPolicy creates or replaces the unit's NetworkPolicy.
func (d *Driver) applyPolicy(ctx context.Context, rec *record) error {
	np := d.policy(rec)
	api := d.c.NetworkingV1().NetworkPolicies(d.ns)
	old, err := api.Get(ctx, np.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = api.Create(ctx, np, metav1.CreateOptions{})
	case err == nil:
		np.ResourceVersion = old.ResourceVersion
		_, err = api.Update(ctx, np, metav1.UpdateOptions{})
	}
	if err != nil {
		return d.apiError("network policy of sandbox "+rec.spec.ID, err)
	}
	return nil
}

// policy is the unit's NetworkPolicy: ingress only to the guest's port (the token guards it),
// no egress without a network, and for egress the public internet minus denied CIDRs plus
// allowed ones, and DNS to the cluster's resolver.
func (d *Driver) policy(rec *record) *networkingv1.NetworkPolicy {
	spec := rec.spec
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	guestPort := intstr.FromInt32(int32(d.cfg.Port))
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: objectName(spec.ID), Namespace: d.ns, Labels: objectLabels(spec),
			OwnerReferences: ownedBy(rec.secret)},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{sandbox.LabelID: spec.ID, labelManagedBy: managedBy}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &guestPort}}}},
		},
	}
	if spec.Network != sandbox.NetworkEgress {
		return np // no egress rule: nothing leaves the pod
	}
	dns := intstr.FromInt32(53)
	np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}},
		To: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
		}},
	})
	if peers := egressPeers(spec.Egress); len(peers) > 0 {
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: peers})
	}
	return np
}

// egressPeers are the IP blocks p allows. A NetworkPolicy can only add what is allowed, so a
// denied CIDR is carved out (except) of every broader block, and an allowed block that a deny
// as wide or wider covers is dropped, unless it is narrower: then, as with runc's filter, the
// more specific rule wins.
func egressPeers(p sandbox.EgressPolicy) []networkingv1.NetworkPolicyPeer {
	var allows, denies []netip.Prefix
	for _, e := range p.AllowOut {
		if c, ok := parseCIDR(e); ok {
			allows = append(allows, c)
		}
	}
	for _, e := range p.DenyOut {
		if c, ok := parseCIDR(e); ok {
			denies = append(denies, c)
		}
	}
	var peers []networkingv1.NetworkPolicyPeer
	block := func(cidr netip.Prefix, except []netip.Prefix) {
		for _, d := range denies {
			if d.Addr().Is4() == cidr.Addr().Is4() && d.Bits() > cidr.Bits() && cidr.Contains(d.Addr()) {
				except = append(except, d)
			}
		}
		b := &networkingv1.IPBlock{CIDR: cidr.String()}
		for _, e := range except {
			b.Except = append(b.Except, e.String())
		}
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: b})
	}
	for _, v4 := range []bool{true, false} {
		all := netip.MustParsePrefix("::/0")
		if v4 {
			all = netip.MustParsePrefix("0.0.0.0/0")
		}
		var private []netip.Prefix
		for _, s := range privateRanges[v4] {
			private = append(private, netip.MustParsePrefix(s))
		}
		block(all, private)
	}
	for _, a := range allows {
		if !deniedWhole(a, denies) {
			block(a, nil)
		}
	}
	return peers
}

// deniedWhole reports whether a deny as wide as a or wider covers it.
func deniedWhole(a netip.Prefix, denies []netip.Prefix) bool {
	for _, d := range denies {
		if d.Bits() <= a.Bits() && d.Contains(a.Addr()) {
			return true
		}
	}
	return false
}
