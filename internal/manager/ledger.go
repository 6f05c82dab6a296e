package manager

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
)

// DefaultReservationTTL is how long a reservation counts past its last renewal: the replica
// making the create renews it every quarter of that while the create runs, so only a replica
// that died mid-create lets it lapse, a minute at most after it last renewed.
const DefaultReservationTTL = time.Minute

// Reservation books one sandbox's resources for a create (or a start) under way, so that the
// quota checks of other creates count it before its record exists.
type Reservation struct {
	ID     string // unique; chosen by the caller
	UserID string
	// Sandbox names the sandbox being made or started. Once its record says running, the
	// record counts and the reservation does not (UsageOf), so that a create between its
	// record write and its Settle is not counted twice.
	Sandbox  string
	MemoryMB int64
	VCPUs    float64
	// Create marks a creation, which also counts against the creations per minute.
	Create bool
	// At is when it was made; past Expires (renewed by Extend while the create runs) it no
	// longer counts as under way (its replica is taken to have died), though a creation still
	// counts a minute from At.
	At, Expires time.Time
}

// QuotaLedger keeps, per user, the reservations of creates under way and the times of
// recent creations. Replicas that share a store share one ledger, so that each counts the
// others' creates; a quota check and the Reserve that follows it run under the user's
// quota lock. Implementations are safe for concurrent use.
type QuotaLedger interface {
	// Reserve books r. An ID already booked is errdefs.ErrAlreadyExists.
	Reserve(ctx context.Context, r Reservation) error
	// Extend moves the expiry of reservation id, not settled, to expires: its create is still
	// under way. An unknown or settled ID is left alone and returns nil.
	Extend(ctx context.Context, id string, expires time.Time) error
	// Settle ends reservation id once its create is over: made, a creation keeps counting
	// toward the creations of the last minute (its sandbox record now counts for the rest);
	// given up (or not a creation), it is forgotten. Settling an unknown or settled ID
	// returns nil, so a settle may be repeated.
	Settle(ctx context.Context, id string, made bool) error
	// Pending lists userID's reservations that are neither settled nor expired at now,
	// oldest first (by At, then ID); none is an empty list.
	Pending(ctx context.Context, userID string, now time.Time) ([]Reservation, error)
	// CreatesSince counts userID's creations made at or after since: reserved ones not
	// given up, settled or not.
	CreatesSince(ctx context.Context, userID string, since time.Time) (int, error)
}

// QuotaBook is the QuotaLedger of a replica alone on its store, kept in memory. The zero
// value is ready. It keeps what a user booked in the last minute, and what is still pending.
type QuotaBook struct {
	mu    sync.Mutex
	users map[string]map[string]*booked // user ID → reservation ID → booking
	owner map[string]string             // reservation ID → user ID
}

type booked struct {
	Reservation
	settled bool
}

var _ QuotaLedger = (*QuotaBook)(nil)

// Reserve implements QuotaLedger. It also forgets the user's bookings that no longer count.
func (b *QuotaBook) Reserve(_ context.Context, r Reservation) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.owner[r.ID]; ok {
		return errdefs.AlreadyExists("reservation %s exists", r.ID)
	}
	if b.users == nil {
		b.users, b.owner = map[string]map[string]*booked{}, map[string]string{}
	}
	u := b.users[r.UserID]
	if u == nil {
		u = map[string]*booked{}
		b.users[r.UserID] = u
	}
	for id, bk := range u {
		if stale(bk.Reservation, bk.settled, r.At) {
			delete(u, id)
			delete(b.owner, id)
		}
	}
	u[r.ID] = &booked{Reservation: r}
	b.owner[r.ID] = r.UserID
	return nil
}

// stale says whether a booking counts neither as pending nor as a recent creation at now.
func stale(r Reservation, settled bool, now time.Time) bool {
	return now.Sub(r.At) >= time.Minute && (settled || !now.Before(r.Expires))
}

// Extend implements QuotaLedger.
func (b *QuotaBook) Extend(_ context.Context, id string, expires time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if userID, ok := b.owner[id]; ok && !b.users[userID][id].settled {
		b.users[userID][id].Expires = expires
	}
	return nil
}

// Settle implements QuotaLedger.
func (b *QuotaBook) Settle(_ context.Context, id string, made bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	userID, ok := b.owner[id]
	if !ok {
		return nil
	}
	bk := b.users[userID][id]
	if made && bk.Create {
		bk.settled = true
		return nil
	}
	delete(b.users[userID], id)
	delete(b.owner, id)
	if len(b.users[userID]) == 0 {
		delete(b.users, userID)
	}
	return nil
}

// Pending implements QuotaLedger.
func (b *QuotaBook) Pending(_ context.Context, userID string, now time.Time) ([]Reservation, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []Reservation{}
	for _, bk := range b.users[userID] {
		if !bk.settled && now.Before(bk.Expires) {
			out = append(out, bk.Reservation)
		}
	}
	slices.SortFunc(out, func(a, b Reservation) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// CreatesSince implements QuotaLedger.
func (b *QuotaBook) CreatesSince(_ context.Context, userID string, since time.Time) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, bk := range b.users[userID] {
		if bk.Create && !bk.At.Before(since) {
			n++
		}
	}
	return n, nil
}
