package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paddock/paddock/internal/errdefs"
)

// downloadIssuer sets download tokens apart from login tokens: each parser requires its
// own issuer, so neither kind is accepted as the other.
const downloadIssuer = "paddock-download"

// MaxDownloadTTL is the longest life of a download URL.
const MaxDownloadTTL = 5 * time.Minute

// downloadClaims are a download token's claims: who asked (sub, and the key or login token
// they used), for which sandbox (as named in the URL) and which file.
type downloadClaims struct {
	Sandbox string `json:"sbx"`
	Path    string `json:"path"`
	Key     string `json:"key,omitempty"`
	jwt.RegisteredClaims
}

var errBadDownload = errdefs.New(errdefs.ErrUnauthenticated, "invalid or expired download URL: ask for a new one")

// SignDownload returns a token that lets a GET of one file of one sandbox through without
// a key, as the caller in ctx, for ttl (at most MaxDownloadTTL), and when it expires.
func (s *Service) SignDownload(ctx context.Context, sandbox, path string, ttl time.Duration) (string, time.Time, error) {
	if s.opts.Tokens == nil {
		return "", time.Time{}, errdefs.Unavailable("download URLs need login tokens, which this server does not issue")
	}
	id, ok := IdentityFrom(ctx)
	if !ok || id.UserID == "" {
		return "", time.Time{}, errdefs.FailedPrecondition("download URLs are signed for a user: this server runs without authentication")
	}
	if ttl <= 0 || ttl > MaxDownloadTTL {
		return "", time.Time{}, errdefs.InvalidArgument("a download URL lives 1 to %d seconds", int(MaxDownloadTTL.Seconds()))
	}
	t := s.opts.Tokens
	now := t.now()
	exp := now.Add(ttl)
	c := downloadClaims{Sandbox: sandbox, Path: path, Key: id.KeyID, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: downloadIssuer, Subject: id.UserID, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp)}}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign download token: %w", err)
	}
	return tok, exp, nil
}

// AuthenticateDownload checks a download token for the file path of sandbox and returns the
// identity of the user it was signed for, as they are now (a disabled user's URLs stop).
func (s *Service) AuthenticateDownload(ctx context.Context, token, sandbox, path string) (Identity, error) {
	t := s.opts.Tokens
	if t == nil {
		return Identity{}, errBadDownload
	}
	c, err := t.parseDownload(token, t.secret)
	if err != nil && t.previous != nil && errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		c, err = t.parseDownload(token, t.previous)
	}
	if err != nil || c.Subject == "" || c.Sandbox != sandbox || c.Path != path {
		return Identity{}, errBadDownload
	}
	u, err := s.st.GetUser(ctx, c.Subject)
	switch {
	case errdefs.IsNotFound(err):
		return Identity{}, errBadDownload
	case err != nil:
		return Identity{}, err
	case u.Disabled:
		return Identity{}, errdefs.New(errdefs.ErrUnauthenticated, "account disabled: ask an admin")
	}
	return Identity{UserID: u.ID, Email: u.Email, Role: u.Role, KeyID: c.Key}, nil
}

func (t *Tokens) parseDownload(token string, secret []byte) (*downloadClaims, error) {
	var c downloadClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(downloadIssuer),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(t.now))
	return &c, err
}
