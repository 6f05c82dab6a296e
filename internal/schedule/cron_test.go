package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
)

func TestParseCron(t *testing.T) {
	base := time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC) // the night Europe/Berlin moves to summer time
	cases := []struct {
		expr, tz string
		want     time.Time
	}{
		{"0 9 * * *", "", time.Date(2026, 3, 29, 9, 0, 0, 0, time.UTC)},
		{"0 9 * * *", "UTC", time.Date(2026, 3, 29, 9, 0, 0, 0, time.UTC)},
		{"0 9 * * *", "Europe/Berlin", time.Date(2026, 3, 29, 7, 0, 0, 0, time.UTC)}, // 09:00 CEST
		{"*/15 * * * *", "", time.Date(2026, 3, 28, 23, 45, 0, 0, time.UTC)},
		{"*/5 * * * * *", "", time.Date(2026, 3, 28, 23, 30, 5, 0, time.UTC)}, // optional seconds field
		{"@every 10s", "", time.Date(2026, 3, 28, 23, 30, 10, 0, time.UTC)},
		{"@hourly", "", time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)},
		{"0 0 * * MON", "", time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.expr+"@"+c.tz, func(t *testing.T) {
			s, err := ParseCron(c.expr, c.tz)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(base); !got.Equal(c.want) || got.Location() != time.UTC {
				t.Errorf("next = %v, want %v", got, c.want)
			}
		})
	}
}

func TestParseCronRefuses(t *testing.T) {
	cases := []struct{ expr, tz, field string }{
		{"", "", "cron_expression"},
		{"61 * * * *", "", "cron_expression"},
		{"* * *", "", "cron_expression"},
		{"not cron", "", "cron_expression"},
		{"TZ=Europe/Berlin 0 9 * * *", "", "cron_expression"},
		{strings.Repeat("1,", 150) + "1 * * * *", "", "cron_expression"},
		{"0 9 * * *", "Mars/Olympus", "timezone"},
		{"0 9 * * *", "../../etc/passwd", "timezone"},
		{"0 9 * * *", "/etc/localtime", "timezone"},
	}
	for _, c := range cases {
		_, err := ParseCron(c.expr, c.tz)
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.HasPrefix(err.Error(), c.field) {
			t.Errorf("ParseCron(%q, %q) = %v, want invalid argument naming %s", c.expr, c.tz, err, c.field)
		}
	}
}

func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"0 9 * * *", "*/5 * * * * *", "@every 1s", "@daily", "1-5/2 * * * MON-FRI"} {
		f.Add(s, "UTC")
	}
	f.Fuzz(func(t *testing.T, expr, tz string) {
		s, err := ParseCron(expr, tz)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("error of another class: %v", err)
			}
			return
		}
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if n := s.Next(from); !n.IsZero() && !n.After(from) {
			t.Fatalf("next %v is not after %v", n, from)
		}
	})
}
