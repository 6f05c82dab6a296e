package schedule

import (
	"strings"
	"time"
	_ "time/tzdata" // zone names resolve on hosts and images without /usr/share/zoneinfo

	"github.com/robfig/cron/v3"

	"github.com/paddock/paddock/internal/errdefs"
)

// parser reads Trinity's standard five fields, plus (a Paddock extension) an optional leading
// seconds field and descriptors such as @hourly or @every 10s.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// maxCronLen bounds a cron expression.
const maxCronLen = 200

// Spec is a parsed cron expression in its time zone.
type Spec struct {
	sched cron.Schedule
	loc   *time.Location
}

// ParseCron parses expr read in the zone tz ("" = UTC). A bad expression or zone is an
// errdefs.ErrInvalidArgument-class error naming the field.
func ParseCron(expr, tz string) (Spec, error) {
	loc, err := ParseTimezone(tz)
	if err != nil {
		return Spec{}, err
	}
	expr = strings.TrimSpace(expr)
	switch {
	case expr == "":
		return Spec{}, errdefs.InvalidArgument("cron_expression is required")
	case len(expr) > maxCronLen:
		return Spec{}, errdefs.InvalidArgument("cron_expression: longer than %d characters", maxCronLen)
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		// The zone is the timezone field's business; two sources would disagree.
		return Spec{}, errdefs.InvalidArgument("cron_expression: give the zone in timezone, not in the expression")
	}
	s, err := parser.Parse(expr)
	if err != nil {
		return Spec{}, errdefs.InvalidArgument("cron_expression %q: %v", expr, err)
	}
	return Spec{sched: s, loc: loc}, nil
}

// ParseTimezone resolves an IANA zone name ("" = UTC).
func ParseTimezone(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	// LoadLocation also takes file-like names; a zone name has neither these nor spaces.
	if len(tz) > 64 || strings.Contains(tz, "..") || strings.HasPrefix(tz, "/") || strings.ContainsAny(tz, " \\\x00") {
		return nil, errdefs.InvalidArgument("timezone %q: not a zone name", tz)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, errdefs.InvalidArgument("timezone %q: unknown zone (use a name such as UTC or Europe/Berlin)", tz)
	}
	return loc, nil
}

// Next is the first time the expression names strictly after t (zero if none ever comes),
// in UTC.
func (s Spec) Next(t time.Time) time.Time {
	n := s.sched.Next(t.In(s.loc))
	if n.IsZero() {
		return n
	}
	return n.UTC()
}
