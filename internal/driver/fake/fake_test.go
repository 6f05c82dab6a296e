package fake_test

import (
	"testing"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

func newDriver(t *testing.T) (sandbox.Driver, sandbox.Image) {
	d, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return d, sandbox.Image{Ref: "base"}
}

func TestConformance(t *testing.T) { drivertest.Run(t, newDriver) }

func TestExitWatcher(t *testing.T) {
	drivertest.RunExitWatcher(t, newDriver, func(t *testing.T, d sandbox.Driver, id string) {
		if err := d.(*fake.Driver).Crash(id); err != nil {
			t.Fatal(err)
		}
	})
}
