package kube

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/paddock/paddock/internal/sandbox"
)

// ParseNodeSelector reads key=value entries.
func ParseNodeSelector(entries []string) (map[string]string, error) {
	out := map[string]string{}
	for _, e := range entries {
		k, v, ok := strings.Cut(e, "=")
		if !ok || len(validation.IsQualifiedName(k)) != 0 || len(validation.IsValidLabelValue(v)) != 0 {
			return nil, fmt.Errorf("%q: want key=value with a label key and value", e)
		}
		out[k] = v
	}
	return out, nil
}

// ParseTolerations reads key[=value][:effect] entries: with a value the toleration matches
// that value (Equal), without one any (Exists); without an effect, every effect.
func ParseTolerations(entries []string) ([]corev1.Toleration, error) {
	var out []corev1.Toleration
	for _, e := range entries {
		kv, effect, _ := strings.Cut(e, ":")
		k, v, hasValue := strings.Cut(kv, "=")
		t := corev1.Toleration{Key: k, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffect(effect)}
		if hasValue {
			t.Operator, t.Value = corev1.TolerationOpEqual, v
		}
		switch t.Effect {
		case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			return nil, fmt.Errorf("%q: effect %q: use NoSchedule, PreferNoSchedule or NoExecute", e, effect)
		}
		if len(validation.IsQualifiedName(k)) != 0 || hasValue && len(validation.IsValidLabelValue(v)) != 0 {
			return nil, fmt.Errorf("%q: want key[=value][:effect] with a label key and value", e)
		}
		out = append(out, t)
	}
	return out, nil
}

// Placement is where the pods of one template's sandboxes go: a RuntimeClass replacing the
// default, node selector entries and tolerations added to the defaults.
type Placement struct {
	RuntimeClassName string
	NodeSelector     map[string]string
	Tolerations      []corev1.Toleration
}

// placementDoc is a Placement as --kube-placements writes it.
type placementDoc struct {
	RuntimeClass string   `json:"runtime_class"`
	NodeSelector []string `json:"node_selector"`
	Tolerations  []string `json:"tolerations"`
}

// ParsePlacements reads a JSON object keyed by template name, e.g.
// {"code-interpreter-v1": {"runtime_class": "gvisor", "node_selector": ["pool=sandboxes"],
// "tolerations": ["sandbox=true:NoSchedule"]}}; "" is no placement.
func ParsePlacements(text string) (map[string]Placement, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var docs map[string]placementDoc
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&docs); err != nil {
		return nil, fmt.Errorf("want {\"TEMPLATE\": {\"runtime_class\": ..., \"node_selector\": [...], \"tolerations\": [...]}}: %w", err)
	}
	out := map[string]Placement{}
	for name, doc := range docs {
		sel, err := ParseNodeSelector(doc.NodeSelector)
		if err != nil {
			return nil, fmt.Errorf("template %s: node_selector: %w", name, err)
		}
		tol, err := ParseTolerations(doc.Tolerations)
		if err != nil {
			return nil, fmt.Errorf("template %s: tolerations: %w", name, err)
		}
		if doc.RuntimeClass != "" && len(validation.IsDNS1123Subdomain(doc.RuntimeClass)) != 0 {
			return nil, fmt.Errorf("template %s: runtime_class %q is not a RuntimeClass name", name, doc.RuntimeClass)
		}
		out[name] = Placement{RuntimeClassName: doc.RuntimeClass, NodeSelector: sel, Tolerations: tol}
	}
	return out, nil
}

// placement is where spec's pod goes: the defaults, with its template's placement over them.
func (d *Driver) placement(spec sandbox.InstanceSpec) Placement {
	p := Placement{RuntimeClassName: d.cfg.RuntimeClassName, NodeSelector: maps.Clone(d.cfg.NodeSelector),
		Tolerations: slices.Clone(d.cfg.Tolerations)}
	t, ok := d.cfg.Placements[spec.Template]
	if !ok || spec.Template == "" {
		return p
	}
	if t.RuntimeClassName != "" {
		p.RuntimeClassName = t.RuntimeClassName
	}
	if len(t.NodeSelector) > 0 && p.NodeSelector == nil {
		p.NodeSelector = map[string]string{}
	}
	maps.Copy(p.NodeSelector, t.NodeSelector)
	p.Tolerations = append(p.Tolerations, t.Tolerations...)
	return p
}
