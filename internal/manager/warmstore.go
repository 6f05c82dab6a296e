package manager

import (
	"context"
	"time"

	"github.com/paddock/paddock/internal/sandbox"
)

// WarmUnit is an unclaimed warm sandbox of a pool that replicas share: a started unit
// whose guest holds GuestToken and is configured for the pool, with no sandbox record yet.
type WarmUnit struct {
	ID         string
	Pool       string // the pool's key
	Instance   sandbox.InstanceSpec
	GuestToken string
	MadeAt     time.Time
}

// WarmStore keeps the warm units of pools shared by replicas (Config.SharedDriver): the
// leader puts the units it makes, any replica claims one. Implementations are safe for
// concurrent use by several processes on one database.
type WarmStore interface {
	// PutWarm adds a warm unit; an ID already present is an already-exists error.
	PutWarm(ctx context.Context, u *WarmUnit) error
	// ClaimWarm removes and returns the oldest unit of pool, atomically: two claimers never
	// get the same unit. None left is a not-found error.
	ClaimWarm(ctx context.Context, pool string) (*WarmUnit, error)
	// DeleteWarm removes the unit id and reports whether it was there (a unit already
	// claimed or deleted is not an error).
	DeleteWarm(ctx context.Context, id string) (bool, error)
	// ListWarm lists every warm unit, by pool then oldest first.
	ListWarm(ctx context.Context) ([]WarmUnit, error)
}
