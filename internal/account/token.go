package account

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paddock/paddock/internal/errdefs"
)

// SecretFileName is the JWT secret's file in the data dir.
const SecretFileName = "jwt-secret"

// minSecret is the shortest secret accepted: HS256 wants at least 256 bits of key.
const minSecret = 32

// issuer is the iss claim of every token Paddock signs.
const issuer = "paddock"

// Tokens signs and checks login tokens: HS256 JWTs whose subject is a user ID. Safe for
// concurrent use (read-only after NewTokens).
type Tokens struct {
	secret   []byte
	previous []byte // also accepted while a rotation is under way (nil = none)
	ttl      time.Duration
	now      func() time.Time
}

// NewTokens returns a signer with secret, accepting tokens signed with previous too (nil =
// none), whose tokens last ttl.
func NewTokens(secret, previous []byte, ttl time.Duration) (*Tokens, error) {
	if len(secret) < minSecret {
		return nil, errdefs.InvalidArgument("jwt secret: use at least %d bytes", minSecret)
	}
	if previous != nil && len(previous) < minSecret {
		return nil, errdefs.InvalidArgument("previous jwt secret: use at least %d bytes", minSecret)
	}
	if ttl <= 0 {
		return nil, errdefs.InvalidArgument("token expiry %s: use a positive duration", ttl)
	}
	return &Tokens{secret: secret, previous: previous, ttl: ttl, now: time.Now}, nil
}

// LoadSecret returns envSecret when set, else the secret in <dataDir>/jwt-secret, creating
// that file (mode 0600, 32 random bytes in hex) on first use.
func LoadSecret(dataDir, envSecret string) ([]byte, error) {
	if envSecret != "" {
		return []byte(envSecret), nil
	}
	path := filepath.Join(dataDir, SecretFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		buf := make([]byte, 32)
		_, _ = rand.Read(buf)
		secret := hex.EncodeToString(buf)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create jwt secret file: %w", err)
		}
		_, werr := f.WriteString(secret + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("write jwt secret file: %w", werr)
		}
		return []byte(secret), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read jwt secret file: %w", err)
	}
	secret := strings.TrimSpace(string(b))
	if len(secret) < minSecret {
		return nil, fmt.Errorf("jwt secret file %s holds %d bytes: use at least %d, or delete it to have one made", path, len(secret), minSecret)
	}
	return []byte(secret), nil
}

// claims are a login token's claims: the registered ones (sub = user ID, jti = token ID)
// and the email, for people reading a token; the server trusts only sub.
type claims struct {
	Email string `json:"email,omitempty"`
	jwt.RegisteredClaims
}

// Issue returns a signed token for u and when it expires.
func (t *Tokens) Issue(u *User) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(t.ttl)
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	c := claims{Email: u.Email, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: u.ID, ID: hex.EncodeToString(id),
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return s, exp, nil
}

// Parse checks a token's signature (with the secret, then the previous one), issuer and
// expiry, and returns its user ID and token ID. Every failure is ErrUnauthenticated with a
// message safe to show.
func (t *Tokens) Parse(token string) (userID, tokenID string, err error) {
	c, err := t.parseWith(token, t.secret)
	if err != nil && t.previous != nil && errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		c, err = t.parseWith(token, t.previous)
	}
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "", "", errdefs.New(errdefs.ErrUnauthenticated, "login token expired: log in again (POST /api/token)")
	case err != nil:
		return "", "", errdefs.New(errdefs.ErrUnauthenticated, "invalid login token")
	case c.Subject == "" || c.ID == "":
		return "", "", errdefs.New(errdefs.ErrUnauthenticated, "invalid login token")
	}
	return c.Subject, c.ID, nil
}

func (t *Tokens) parseWith(token string, secret []byte) (*claims, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(t.now))
	return &c, err
}
