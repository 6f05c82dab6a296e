package process

import "time"

// NewTuned is New with the OOM counter files replaced, and the subscriber stall when
// subStall is positive.
func NewTuned(opts Options, oomFiles []string, subStall time.Duration) *Service {
	s := New(opts)
	s.oomFiles = oomFiles
	if subStall > 0 {
		s.subStall = subStall
	}
	return s
}
