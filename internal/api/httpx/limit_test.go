package httpx

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
)

func TestLimiterRefusesWhenFull(t *testing.T) {
	l := NewLimiter(2, 0)
	r1, err1 := l.Acquire(context.Background())
	r2, err2 := l.Acquire(context.Background())
	if err1 != nil || err2 != nil || l.InFlight() != 2 {
		t.Fatalf("two slots: %v %v, in flight %d", err1, err2, l.InFlight())
	}
	rec := httptest.NewRecorder()
	called := false
	err := l.Wrap(func(http.ResponseWriter, *http.Request) error { called = true; return nil })(rec, httptest.NewRequest("GET", "/", nil))
	if called || !errors.Is(err, errdefs.ErrUnavailable) || Status(err) != 503 || rec.Header().Get("Retry-After") != "1" || l.Refused() != 1 {
		t.Errorf("third request: called %v, %v (status %d), Retry-After %q, refused %d", called, err, Status(err), rec.Header().Get("Retry-After"), l.Refused())
	}
	r1()
	r1() // releasing twice gives back one slot only
	if l.InFlight() != 1 {
		t.Errorf("in flight after one release: %d", l.InFlight())
	}
	r3, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if _, err := l.Acquire(context.Background()); err == nil {
		t.Error("a third slot appeared after a double release")
	}
	r2()
	r3()
	if l.InFlight() != 0 {
		t.Errorf("in flight at the end: %d", l.InFlight())
	}
}

func TestLimiterWaitsForASlot(t *testing.T) {
	l := NewLimiter(1, time.Hour)
	release, _ := l.Acquire(context.Background())
	got := make(chan error, 1)
	go func() {
		r, err := l.Acquire(context.Background())
		if err == nil {
			r()
		}
		got <- err
	}()
	for l.Waiting() != 1 { // bounded by the test's timeout
		time.Sleep(time.Millisecond)
	}
	release()
	if err := <-got; err != nil {
		t.Errorf("waiting request: %v", err)
	}
	// A request whose client goes away stops waiting.
	release, _ = l.Acquire(context.Background())
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Acquire(ctx); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("cancelled wait: %v", err)
	}
}

func TestSeconds(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want time.Duration
		err  string
	}{
		{0, 0, ""},
		{1.5, 1500 * time.Millisecond, ""},
		{86400, 24 * time.Hour, ""},
		{-1, 0, "timeout must not be negative"},
		{86400.5, 0, "timeout 86400.5 is too large (max 86400 seconds)"},
		{999999999999, 0, "timeout 999999999999 is too large (max 86400 seconds)"},
		{1e300, 0, "too large"},
	} {
		d, err := Seconds("timeout", c.in, 24*time.Hour)
		switch {
		case c.err == "" && (err != nil || d != c.want):
			t.Errorf("%v: %v %v, want %v", c.in, d, err, c.want)
		case c.err != "" && (err == nil || !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%v: %v, want an invalid argument with %q", c.in, err, c.err)
		}
	}
}
