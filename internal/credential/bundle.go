package credential

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/paddock/paddock/internal/errdefs"
)

// Bundle format, as Trinity's .credentials.enc.
const (
	BundleVersion = 1
	Algorithm     = "AES-256-GCM"
	nonceSize     = 12
	// maxCiphertext bounds what Open decodes: MaxTotal of content plus JSON escaping.
	maxCiphertext = 4 * MaxTotal
)

// Bundle is a set of credential files sealed with the server's key: the plaintext is the
// JSON object {path: content}, encrypted with AES-256-GCM under a random 12-byte nonce and no
// additional data (so that bundles of Trinity sealed with the same key open here). Nonce and
// Ciphertext (which ends with the GCM tag) are standard base64.
type Bundle struct {
	Version    int    `json:"version"`
	Algorithm  string `json:"algorithm"`
	Nonce      string `json:"nonce"`
	Ciphertext string `json:"ciphertext"`
}

func newGCM(key Key) cipher.AEAD {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return gcm
}

// Seal encrypts files into a bundle.
// Content must be UTF-8 text (JSON strings cannot carry other bytes).
func Seal(key Key, files map[string]string) (Bundle, error) {
	for p, content := range files {
		if !utf8.ValidString(content) {
			return Bundle{}, errdefs.InvalidArgument("credential file %s: content is not UTF-8 text", p)
		}
	}
	plain, err := json.Marshal(files)
	if err != nil {
		return Bundle{}, err
	}
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return Bundle{}, err
	}
	ct := newGCM(key).Seal(nil, nonce, plain, nil)
	return Bundle{Version: BundleVersion, Algorithm: Algorithm, Nonce: base64.StdEncoding.EncodeToString(nonce),
		Ciphertext: base64.StdEncoding.EncodeToString(ct)}, nil
}

// Open decrypts a bundle. A bundle that was altered or sealed with another key is an
// errdefs.ErrInvalidArgument-class error, as is an unknown version or algorithm.
func Open(key Key, b Bundle) (map[string]string, error) {
	switch {
	case b.Version != BundleVersion:
		return nil, errdefs.InvalidArgument("bundle version %d is not supported (want %d)", b.Version, BundleVersion)
	case !strings.EqualFold(b.Algorithm, Algorithm):
		return nil, errdefs.InvalidArgument("bundle algorithm %q is not supported (want %s)", b.Algorithm, Algorithm)
	case len(b.Ciphertext) > maxCiphertext:
		return nil, errdefs.New(errdefs.ErrTooLarge, "bundle is larger than %d bytes", maxCiphertext)
	}
	nonce, err := base64.StdEncoding.DecodeString(b.Nonce)
	if err != nil || len(nonce) != nonceSize {
		return nil, errdefs.InvalidArgument("bundle nonce: want %d bytes in base64", nonceSize)
	}
	ct, err := base64.StdEncoding.DecodeString(b.Ciphertext)
	if err != nil {
		return nil, errdefs.InvalidArgument("bundle ciphertext: not base64")
	}
	plain, err := newGCM(key).Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, errdefs.InvalidArgument("bundle does not decrypt with this server's key")
	}
	files := map[string]string{}
	if err := json.Unmarshal(plain, &files); err != nil {
		return nil, errdefs.InvalidArgument("bundle content is not a map of files")
	}
	return files, nil
}
