package invalidate_test

import (
	"slices"
	"testing"

	"github.com/paddock/paddock/internal/invalidate"
)

func TestLocal(t *testing.T) {
	var bus invalidate.Local
	var sandboxes, accounts []string
	bus.Subscribe(invalidate.Sandbox, func(id string) { sandboxes = append(sandboxes, id) })
	bus.Subscribe(invalidate.Accounts, func(id string) { accounts = append(accounts, id) })
	bus.Publish(invalidate.Sandbox, "a")
	bus.Publish(invalidate.Accounts, invalidate.All)
	bus.Publish(invalidate.Stopped, "b") // nobody subscribed
	if !slices.Equal(sandboxes, []string{"a"}) || !slices.Equal(accounts, []string{invalidate.All}) {
		t.Fatalf("sandboxes got %v, accounts %v; want [a] and [*]", sandboxes, accounts)
	}
}
