package usernet

import (
	"sync"
	"time"
)

// ViolationRate is how many violations per second a network reports; the rest are counted.
const ViolationRate = 10

// Violation is a connection or lookup the policy blocked.
type Violation struct {
	Proto  string `json:"proto"`          // "tcp", "udp" or "dns"
	Dest   string `json:"dest,omitempty"` // ip:port (tcp, udp)
	Name   string `json:"name,omitempty"` // the domain looked up or announced
	Rule   string `json:"rule,omitempty"` // the entry that denied it ("" = default)
	Reason string `json:"reason"`
	// Suppressed counts violations dropped by the rate limit since the last report.
	Suppressed int `json:"suppressed,omitempty"`
}

// violations rate-limits reports so that a sandbox hammering a blocked address cannot flood
// the audit log.
type violations struct {
	sink func(Violation)

	mu         sync.Mutex
	window     time.Time
	inWindow   int
	suppressed int
}

func newViolations(f func(Violation)) *violations { return &violations{sink: f} }

func (v *violations) report(vi Violation) {
	if v.sink == nil {
		return
	}
	v.mu.Lock()
	now := time.Now()
	if now.Sub(v.window) >= time.Second {
		v.window, v.inWindow = now, 0
	}
	if v.inWindow >= ViolationRate {
		v.suppressed++
		v.mu.Unlock()
		return
	}
	v.inWindow++
	vi.Suppressed, v.suppressed = v.suppressed, 0
	v.mu.Unlock()
	v.sink(vi)
}
