// Package auth authenticates requests: it finds the credential presented (X-API-Key,
// Authorization: Bearer, or a WebSocket subprotocol), has an Authenticator resolve it to an
// identity, and keeps the server's key file. Only a key's ID is ever logged, never the key.
package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/account"
)

// KeyFileName is the key file in the data dir.
const KeyFileName = "api-key"

// Authenticator resolves a presented API key or login token to an identity; unknown,
// revoked or expired credentials are errdefs.ErrUnauthenticated. account.Service is one.
// Implementations are safe for concurrent use.
type Authenticator interface {
	Authenticate(ctx context.Context, presented string) (account.Identity, error)
}

var _ Authenticator = (*account.Service)(nil)

// Load returns the configured key (when envKey is set) or the keys in <dataDir>/api-key,
// creating that file with a new key (mode 0600) on first use. created tells the caller to
// say where the new key is.
func Load(dataDir, envKey string) (keys []string, path string, created bool, err error) {
	if envKey = strings.TrimSpace(envKey); envKey != "" {
		return []string{envKey}, "", false, nil
	}
	path = filepath.Join(dataDir, KeyFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := account.NewKey()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, path, false, fmt.Errorf("create key file: %w", err)
		}
		_, werr := f.WriteString(key + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, path, false, fmt.Errorf("write key file: %w", werr)
		}
		return []string{key}, path, true, nil
	}
	if err != nil {
		return nil, path, false, fmt.Errorf("read key file: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			keys = append(keys, line)
		}
	}
	if len(keys) == 0 {
		return nil, path, false, fmt.Errorf("key file %s holds no key", path)
	}
	return keys, path, false, nil
}

// FromHeaders extracts a presented key or token: X-API-Key, else Authorization: Bearer.
func FromHeaders(get func(string) string) string {
	if k := strings.TrimSpace(get("X-API-Key")); k != "" {
		return k
	}
	if a := get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "Bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// FromWebSocketProtocol extracts a key offered as a WebSocket subprotocol
// (apitype.WebSocketKeyPrefix + base64url of the key), the only way a browser can present
// one on a WebSocket handshake. Anything else yields "".
func FromWebSocketProtocol(h http.Header) string {
	if !strings.EqualFold(h.Get("Upgrade"), "websocket") {
		return ""
	}
	for _, v := range h.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			enc, ok := strings.CutPrefix(strings.TrimSpace(p), apitype.WebSocketKeyPrefix)
			if !ok {
				continue
			}
			key, err := base64.RawURLEncoding.DecodeString(enc)
			if err != nil {
				return ""
			}
			return strings.TrimSpace(string(key))
		}
	}
	return ""
}
