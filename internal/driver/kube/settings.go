package kube

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
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
