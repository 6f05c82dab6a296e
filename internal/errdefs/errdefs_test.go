package errdefs_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
)

func TestHide(t *testing.T) {
	cause := fmt.Errorf("dial unix /var/lib/paddock/x/guest.sock: %w: %w", errdefs.ErrNotFound, fs.ErrNotExist)
	err := fmt.Errorf("exec: %w", errdefs.Hide(errdefs.ErrUnavailable, "the guest is not answering", cause))
	if !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("%v is not of its class", err)
	}
	if errdefs.IsNotFound(err) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v takes a class from its cause", err)
	}
	if msg, ok := errdefs.PublicMessage(err); !ok || msg != "the guest is not answering" {
		t.Errorf("public message %q, %v", msg, ok)
	}
	if !strings.Contains(err.Error(), "/var/lib/paddock/x/guest.sock") {
		t.Errorf("the full text lost the cause: %v", err)
	}
	if _, ok := errdefs.PublicMessage(errdefs.Unavailable("plain")); ok {
		t.Error("a plain classed error has a hidden public message")
	}
	if err := errdefs.Hide(errdefs.ErrUnavailable, "public", nil); err.Error() != "public" || !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("without a cause: %v", err)
	}
}
