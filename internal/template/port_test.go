package template

import (
	"errors"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
)

// TestZeroPortRefused: "port": 0 reads as no port (8080) once decoded, so it is refused on
// the raw list.
func TestZeroPortRefused(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{`[{"name":"web","image":"base","description":"d","port":0}]`, `template "web": port: 0 is not a port`},
		{`[{"name":"web","image":"base","description":"d","port":0.0}]`, `template "web": port: 0 is not a port`},
		{`[{"name":"web","image":"base","description":"d","port":8000}]`, ""},
		{`[{"name":"web","image":"base","description":"d"}]`, ""},
	} {
		_, err := Parse([]byte(c.in))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.in, err)
		case c.want != "" && (!errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.in, err, c.want)
		}
	}
}
