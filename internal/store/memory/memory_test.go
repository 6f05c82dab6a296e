package memory_test

import (
	"github.com/paddock/paddock/internal/agentrun"
	"testing"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/credential"
	"github.com/paddock/paddock/internal/fleet"
	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/schedule"
	"github.com/paddock/paddock/internal/sshgate"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sandbox.Store { return memory.New() })
}

func TestActivity(t *testing.T) {
	storetest.RunActivity(t, func(t *testing.T) storetest.ActivityStore { return memory.New() })
}

func TestRuns(t *testing.T) { storetest.RunRuns(t, &memory.Runs{}) }

func TestAccounts(t *testing.T) {
	storetest.RunAccounts(t, func(t *testing.T) account.Store { return memory.NewAccounts() })
}

func TestSSHGrants(t *testing.T) {
	storetest.RunSSHGrants(t, func(t *testing.T) sshgate.Store { return &memory.SSHGrants{} })
}

func TestEvents(t *testing.T) { storetest.RunEvents(t, &memory.Events{}) }

func TestLifecycle(t *testing.T) {
	storetest.RunLifecycle(t, func(t *testing.T) lifecycle.Store { return &memory.Lifecycle{} })
}

func TestAgents(t *testing.T) {
	storetest.RunAgents(t, func(t *testing.T) agentrun.Store { return memory.NewAgents() })
}

func TestFleet(t *testing.T) {
	storetest.RunFleet(t, func(t *testing.T) fleet.Store { return memory.NewFleet() })
}

func TestSchedules(t *testing.T) {
	storetest.RunSchedules(t, func(t *testing.T) schedule.Store { return memory.NewSchedules() })
}

func TestCredentials(t *testing.T) {
	storetest.RunCredentials(t, func(t *testing.T) credential.Store { return memory.NewCredentials() })
}

func TestWarm(t *testing.T) {
	storetest.RunWarm(t, func(t *testing.T) manager.WarmStore { return &memory.Warm{} })
}
