package guestclient

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/errdefs"
)

// TestUnknownUserIsNotAnAuthFailure: the guest refuses an unknown user as envd does
// (unauthenticated, "invalid username: bob"); for Paddock's callers that is a bad argument,
// not a 401 about their API key.
func TestUnknownUserIsNotAnAuthFailure(t *testing.T) {
	want := `user "bob" does not exist in the sandbox (no /etc/passwd entry)`
	err := Classify(connect.NewError(connect.CodeUnauthenticated, errors.New("invalid username: bob")))
	if !errors.Is(err, errdefs.ErrInvalidArgument) || err.Error() != want {
		t.Errorf("RPC: %v", err)
	}
	c := hostileGuest(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"code":401,"message":"invalid username: bob"}`))
	})
	_, err = c.ReadFile(context.Background(), "/x", "bob")
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("/files: %v", err)
	}
	// A refused token is Paddock's own failure: no class, so an internal error.
	err = Classify(connect.NewError(connect.CodeUnauthenticated, errors.New("invalid access token")))
	if errors.Is(err, errdefs.ErrUnauthenticated) || errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("token refused: %v", err)
	}
}
