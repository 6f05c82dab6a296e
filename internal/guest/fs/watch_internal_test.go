package fs

import (
	"fmt"
	"testing"

	pb "github.com/paddock/paddock/proto/filesystem"
)

func TestPollWatcherDropsOldestBeyondBound(t *testing.T) {
	pw := &pollWatcher{}
	const extra = 5
	for i := range maxPolledEvents + extra {
		pw.add([]*pb.FilesystemEvent{{Name: fmt.Sprint(i)}})
	}
	evs := pw.take()
	if len(evs) != maxPolledEvents || evs[0].GetName() != fmt.Sprint(extra) || evs[len(evs)-1].GetName() != fmt.Sprint(maxPolledEvents+extra-1) {
		t.Fatalf("kept %d events from %s to %s, want the last %d", len(evs), evs[0].GetName(), evs[len(evs)-1].GetName(), maxPolledEvents)
	}
	if rest := pw.take(); len(rest) != 0 {
		t.Errorf("take after take returned %d events", len(rest))
	}
}
