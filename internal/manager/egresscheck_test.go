package manager_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// addressOnly is a driver that enforces CIDR rules only, as the kube driver does.
type addressOnly struct{ *fake.Driver }

func (addressOnly) CheckEgress(p sandbox.EgressPolicy) error {
	for _, r := range append(p.AllowOut, p.DenyOut...) {
		if strings.Contains(r, "example") {
			return errdefs.InvalidArgument("entry %q is a domain name", r)
		}
	}
	return nil
}

// TestCreateRefusesUnenforceableEgress: a policy the driver cannot enforce is refused before
// any unit is made, with the driver's message naming the rule.
func TestCreateRefusesUnenforceableEgress(t *testing.T) {
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manager.New(context.Background(), manager.Config{Driver: addressOnly{drv}, Store: memory.New(), Images: images{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	ctx := context.Background()
	_, err = m.Create(ctx, sandbox.Spec{Name: "dom", Network: sandbox.NetworkEgress,
		Egress: sandbox.EgressPolicy{DenyOut: []string{"*.example.com"}}}, "")
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "*.example.com") {
		t.Errorf("create with a domain rule: %v, want invalid argument naming the rule", err)
	}
	if list, _ := drv.List(ctx); len(list) != 0 {
		t.Errorf("units after the refused create: %+v", list)
	}
	if _, err := m.Create(ctx, sandbox.Spec{Name: "cidr", Network: sandbox.NetworkEgress,
		Egress: sandbox.EgressPolicy{DenyOut: []string{"203.0.113.0/24"}}}, ""); err != nil {
		t.Errorf("create with a CIDR rule: %v", err)
	}
}
