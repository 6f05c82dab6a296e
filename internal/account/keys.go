package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// keyPrefix and keyHexLen make the E2B key format, which E2B SDKs check on the client side.
const (
	keyPrefix = "e2b_"
	keyHexLen = 40
)

// NewKey returns a fresh key in the format E2B SDKs accept: "e2b_" and 40 lowercase hex digits.
func NewKey() string {
	b := make([]byte, keyHexLen/2)
	_, _ = rand.Read(b)
	return keyPrefix + hex.EncodeToString(b)
}

// HashKey is what the store keeps of a key: its SHA-256, in hex.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// KeyID is a key's public identifier: "key-" and the first 12 hex digits of its SHA-256 (the
// IDs audit events carried before there were users, so old and new events agree).
func KeyID(key string) string { return "key-" + HashKey(key)[:12] }

// LooksLikeKey reports whether s has the shape of a key Paddock makes. Keys configured by
// hand (PADDOCK_API_KEY) may have any shape; this only routes what is clearly not a JWT.
func LooksLikeKey(s string) bool {
	if len(s) != len(keyPrefix)+keyHexLen || !strings.HasPrefix(s, keyPrefix) {
		return false
	}
	for _, c := range s[len(keyPrefix):] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// looksLikeJWT reports whether s has a JWT's three dot-separated parts; anything else
// presented is looked up as a key.
func looksLikeJWT(s string) bool {
	return strings.Count(s, ".") == 2 && !strings.HasPrefix(s, keyPrefix)
}
