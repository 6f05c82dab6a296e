package credential

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Key is the server's credential key: AES-256 for bundles and for credentials at rest.
type Key [32]byte

// SecretFileName is the file in the data dir holding the secret the key is derived from
// when --credential-key is not set.
const SecretFileName = "credential-secret"

// keyLabel separates this use of the data dir's secret from any other (HKDF info).
const keyLabel = "paddock credential key v1"

// ParseKey reads a key given as hex (64 characters) or base64 (standard or URL alphabet,
// padded or not) of 32 bytes. Its error never repeats the text.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	var k Key
	try := []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString, base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString}
	for _, dec := range try {
		if b, err := dec(s); err == nil && len(b) == len(k) {
			copy(k[:], b)
			return k, nil
		}
	}
	return k, errors.New("want 32 bytes as hex (64 characters) or base64 (e.g. openssl rand -hex 32)")
}

// LoadKey returns the configured key when configured is set, else a key derived (HKDF-SHA256)
// from the secret in <dataDir>/credential-secret, which it creates (32 random bytes, hex,
// mode 0600) on first use. A derived key is this server's alone: bundles sealed with it open
// only where that file is.
func LoadKey(configured, dataDir string) (Key, error) {
	if configured != "" {
		k, err := ParseKey(configured)
		if err != nil {
			return Key{}, fmt.Errorf("credential-key: %w", err)
		}
		return k, nil
	}
	secret, err := loadSecret(filepath.Join(dataDir, SecretFileName))
	if err != nil {
		return Key{}, err
	}
	b, err := hkdf.Key(sha256.New, secret, nil, keyLabel, len(Key{}))
	if err != nil {
		return Key{}, err
	}
	return Key(b), nil
}

func loadSecret(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return loadSecret(file) // another process made it meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", SecretFileName, err)
		}
		_, werr := f.WriteString(hex.EncodeToString(fresh) + "\n")
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, fmt.Errorf("write %s: %w", SecretFileName, err)
		}
		return fresh, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", SecretFileName, err)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(secret) < 32 {
		return nil, fmt.Errorf("%s: want at least 32 bytes as hex", SecretFileName)
	}
	return secret, nil
}
