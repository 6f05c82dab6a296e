package account

import (
	"golang.org/x/crypto/bcrypt"
	"sync"

	"github.com/paddock/paddock/internal/errdefs"
)

// Password limits: bcrypt reads at most 72 bytes, and a longer password would be silently
// cut, so it is refused instead.
const (
	minPassword = 8
	maxPassword = 72
)

// hashPassword returns the bcrypt hash of password at cost.
func hashPassword(password string, cost int) (string, error) {
	if len(password) < minPassword || len(password) > maxPassword {
		return "", errdefs.InvalidArgument("a password has %d to %d bytes", minPassword, maxPassword)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// dummyHash is compared against when a login names no user (or one without a password),
// so that the answer takes as long as a wrong password's and does not tell which it was.
// It is made on first use, never at package init: the binary is also every sandbox's PID 1
// and the CLI, and a bcrypt hash costs tens of milliseconds of CPU (as a package variable it
// doubled the time from create to a ready guest).
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("paddock-no-such-user"), bcrypt.DefaultCost)
	return h
})

// checkPassword reports whether password matches hash ("" matches nothing).
func checkPassword(hash, password string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}
