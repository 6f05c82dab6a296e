package storetest

import (
	"reflect"
	"testing"
)

// TestFixtureIsComplete keeps the round-trip fixture honest: a field added to
// sandbox.Sandbox fails here until record sets it, and so the suite checks that every store
// keeps it.
func TestFixtureIsComplete(t *testing.T) {
	if zero := zeroFields(reflect.ValueOf(*record("i1", "one", epoch)), "Sandbox"); len(zero) > 0 {
		t.Errorf("record leaves these fields unset: %v", zero)
	}
}

func TestZeroFieldsFindsUnsetFields(t *testing.T) {
	sb := record("i1", "one", epoch)
	sb.Reason, sb.StartedAt, sb.Instance.Security.ReadOnlyRoot, sb.Spec.Env = "", nil, false, map[string]string{}
	got := zeroFields(reflect.ValueOf(*sb), "Sandbox")
	want := []string{"Sandbox.Spec.Env", "Sandbox.StartedAt", "Sandbox.Reason", "Sandbox.Instance.Security.ReadOnlyRoot"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
