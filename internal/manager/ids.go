package manager

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"

	"github.com/paddock/paddock/internal/errdefs"
)

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// newID returns "i" plus 20 random [a-z0-9] characters, the shape E2B sandbox IDs have.
func newID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	out := make([]byte, 21)
	out[0] = 'i'
	for i, v := range b {
		out[i+1] = idAlphabet[int(v)%len(idAlphabet)]
	}
	return string(out)
}

// newToken returns a random hex secret.
func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// validateName applies DNS-label rules: 1–63 lowercase letters, digits and hyphens, starting
// and ending with a letter or digit.
func validateName(name string) error {
	if !nameRE.MatchString(name) {
		return errdefs.InvalidArgument("invalid name %q: use 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit", name)
	}
	return nil
}
