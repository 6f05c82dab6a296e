package sandbox

import "github.com/paddock/paddock/internal/errdefs"

// GuestNotAnswering is what a client is told when a sandbox's guest cannot be reached.
const GuestNotAnswering = "the sandbox's guest is not answering"

// GuestUnreachable is the error of a guest that cannot be reached: Driver.Dial's when the
// unit exists but its guest does not answer, and a guest connection's that failed. Its class
// is errdefs.ErrUnavailable and its public message GuestNotAnswering; cause, which names host
// paths (the guest's socket), stays in the full text for the log.
func GuestUnreachable(cause error) error {
	return errdefs.Hide(errdefs.ErrUnavailable, GuestNotAnswering, cause)
}
