package config

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/image"
	"github.com/paddock/paddock/internal/usernet"
)

// value parses a setting's text into its typed field (a pflag.Value). String gives back text
// that Set reads to the same value.
type value interface {
	Set(string) error
	String() string
	Type() string
}

type (
	stringValue   string
	boolValue     bool
	intValue      int
	int64Value    int64
	durationValue time.Duration
	levelValue    slog.Level
	// listValue is a comma-separated list; empty items are dropped.
	listValue []string
	// resolversValue is a list of DNS resolvers, ip[:port], kept as ip:port.
	resolversValue []string
	// mirrorsValue and insecureValue are the two halves of image.Registries.
	mirrorsValue  image.Registries
	insecureValue image.Registries
)

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

// jsonValue is a setting whose value is JSON text (a flag, a variable, or an object in the
// config file), parsed by its consumer.
type jsonValue string

func (v *jsonValue) Set(s string) error { *v = jsonValue(s); return nil }
func (v *jsonValue) String() string     { return string(*v) }
func (v *jsonValue) Type() string       { return "json" }
func (v *stringValue) String() string   { return string(*v) }
func (v *stringValue) Type() string     { return "string" }

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not a boolean: use true or false", s)
	}
	*v = boolValue(b)
	return nil
}
func (v *boolValue) String() string { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) Type() string   { return "bool" }

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	*v = intValue(n)
	return nil
}
func (v *intValue) String() string { return strconv.Itoa(int(*v)) }
func (v *intValue) Type() string   { return "int" }

func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	*v = int64Value(n)
	return nil
}
func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }
func (v *int64Value) Type() string   { return "int" }

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration: use one such as 30s, 5m or 2h", s)
	}
	*v = durationValue(d)
	return nil
}
func (v *durationValue) String() string { return time.Duration(*v).String() }
func (v *durationValue) Type() string   { return "duration" }

// levelNames are the log levels a setting may name.
var levelNames = map[slog.Level]string{slog.LevelDebug: "debug", slog.LevelInfo: "info", slog.LevelWarn: "warn", slog.LevelError: "error"}

func (v *levelValue) Set(s string) error {
	for l, name := range levelNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			*v = levelValue(l)
			return nil
		}
	}
	return fmt.Errorf("%q: use debug, info, warn or error", s)
}
func (v *levelValue) String() string { return levelNames[slog.Level(*v)] }
func (v *levelValue) Type() string   { return "level" }

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func (v *listValue) Set(s string) error { *v = splitList(s); return nil }
func (v *listValue) String() string     { return strings.Join(*v, ",") }
func (v *listValue) Type() string       { return "strings" }
func (v *listValue) list()              {}

func (v *resolversValue) Set(s string) error {
	rs, err := usernet.ParseResolvers(s)
	if err != nil {
		return err
	}
	*v = rs
	return nil
}
func (v *resolversValue) String() string { return strings.Join(*v, ",") }
func (v *resolversValue) Type() string   { return "strings" }
func (v *resolversValue) list()          {}

func (v *mirrorsValue) Set(s string) error {
	r, err := image.ParseRegistries(s, "")
	if err != nil {
		return err
	}
	v.Mirrors = r.Mirrors
	return nil
}

// String lists the mirrors registry by registry (sorted); each registry's mirrors keep their
// order, which is all that order means.
func (v *mirrorsValue) String() string {
	var pairs []string
	for _, reg := range slices.Sorted(maps.Keys(v.Mirrors)) {
		for _, m := range v.Mirrors[reg] {
			pairs = append(pairs, reg+"="+m)
		}
	}
	return strings.Join(pairs, ",")
}
func (v *mirrorsValue) Type() string { return "strings" }
func (v *mirrorsValue) list()        {}

func (v *insecureValue) Set(s string) error {
	r, err := image.ParseRegistries("", s)
	if err != nil {
		return err
	}
	v.Insecure = r.Insecure
	return nil
}
func (v *insecureValue) String() string {
	return strings.Join(slices.Sorted(maps.Keys(v.Insecure)), ",")
}
func (v *insecureValue) Type() string { return "strings" }
func (v *insecureValue) list()        {}
