// Package auth checks API keys (X-API-Key or Authorization: Bearer) and keeps the server's
// key file. Keys are compared in constant time; only a key's short ID is ever logged.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileName is the key file in the data dir.
const KeyFileName = "api-key"

// Keys is the set of accepted API keys. Safe for concurrent use (read-only after Load).
type Keys struct {
	sums [][32]byte
	ids  []string
}

// NewKey returns a fresh key in the format E2B SDKs accept: "e2b_" and 40 lowercase hex digits.
func NewKey() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return "e2b_" + hex.EncodeToString(b)
}

// ID is a key's public identifier: the first 12 hex digits of its SHA-256.
func ID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "key-" + hex.EncodeToString(sum[:6])
}

// FromList builds a key set.
func FromList(keys ...string) *Keys {
	k := &Keys{}
	for _, key := range keys {
		if key = strings.TrimSpace(key); key != "" {
			k.sums = append(k.sums, sha256.Sum256([]byte(key)))
			k.ids = append(k.ids, ID(key))
		}
	}
	return k
}

// Load returns the configured key (when envKey is set) or the keys in <dataDir>/api-key,
// creating that file with a new key (mode 0600) on first use. created tells the caller to
// say where the new key is.
func Load(dataDir, envKey string) (keys *Keys, path string, created bool, err error) {
	if envKey != "" {
		return FromList(envKey), "", false, nil
	}
	path = filepath.Join(dataDir, KeyFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := NewKey()
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
		return FromList(key), path, true, nil
	}
	if err != nil {
		return nil, path, false, fmt.Errorf("read key file: %w", err)
	}
	keys = FromList(strings.Split(string(b), "\n")...)
	if len(keys.sums) == 0 {
		return nil, path, false, fmt.Errorf("key file %s holds no key", path)
	}
	return keys, path, false, nil
}

// Check returns the ID of the key presented, or false. Every configured key is compared, in
// constant time, so timing reveals neither which key matched nor how much of one did.
func (k *Keys) Check(presented string) (string, bool) {
	if presented == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(presented))
	match := -1
	for i, s := range k.sums {
		if subtle.ConstantTimeCompare(sum[:], s[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return "", false
	}
	return k.ids[match], true
}

// FromHeaders extracts a presented key: X-API-Key, else Authorization: Bearer.
func FromHeaders(get func(string) string) string {
	if k := strings.TrimSpace(get("X-API-Key")); k != "" {
		return k
	}
	if a := get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "Bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}
