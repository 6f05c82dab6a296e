package credential

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/errdefs"
)

func testKey(b byte) Key {
	var k Key
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	key := testKey(1)
	files := map[string]string{".env": "API_KEY=\"sk-secret\"\n", ".mcp.json": `{"mcpServers":{}}`, "nul": "a\x00b"}
	b, err := Seal(key, files)
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != 1 || b.Algorithm != "AES-256-GCM" {
		t.Errorf("bundle header = %d %q", b.Version, b.Algorithm)
	}
	if nonce, _ := base64.StdEncoding.DecodeString(b.Nonce); len(nonce) != 12 {
		t.Errorf("nonce is %d bytes", len(nonce))
	}
	if strings.Contains(b.Ciphertext, "sk-secret") {
		t.Error("ciphertext carries the plaintext")
	}
	got, err := Open(key, b)
	if err != nil || !reflect.DeepEqual(got, files) {
		t.Fatalf("Open = %v, %v", got, err)
	}
	if _, err := Seal(key, map[string]string{"bin": "\xff"}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("sealing bytes that are not UTF-8: %v", err)
	}
	b2, _ := Seal(key, files)
	if b2.Nonce == b.Nonce {
		t.Error("two seals share a nonce")
	}
}

func TestOpenRefuses(t *testing.T) {
	key := testKey(1)
	good, _ := Seal(key, map[string]string{".env": "A=1"})
	flip := func(s string) string {
		raw, _ := base64.StdEncoding.DecodeString(s)
		raw[len(raw)/2] ^= 1
		return base64.StdEncoding.EncodeToString(raw)
	}
	cases := []struct {
		name string
		edit func(*Bundle, *Key)
		want string
	}{
		{"other key", func(_ *Bundle, k *Key) { *k = testKey(2) }, "bundle does not decrypt with this server's key"},
		{"tampered ciphertext", func(b *Bundle, _ *Key) { b.Ciphertext = flip(b.Ciphertext) }, "bundle does not decrypt with this server's key"},
		{"tampered nonce", func(b *Bundle, _ *Key) { b.Nonce = flip(b.Nonce) }, "bundle does not decrypt with this server's key"},
		{"truncated", func(b *Bundle, _ *Key) { b.Ciphertext = b.Ciphertext[:8] }, "bundle does not decrypt with this server's key"},
		{"version", func(b *Bundle, _ *Key) { b.Version = 2 }, "bundle version 2 is not supported (want 1)"},
		{"algorithm", func(b *Bundle, _ *Key) { b.Algorithm = "AES-128-CBC" }, `bundle algorithm "AES-128-CBC" is not supported (want AES-256-GCM)`},
		{"nonce size", func(b *Bundle, _ *Key) { b.Nonce = base64.StdEncoding.EncodeToString([]byte("short")) }, "bundle nonce: want 12 bytes in base64"},
		{"not base64", func(b *Bundle, _ *Key) { b.Ciphertext = "!!" }, "bundle ciphertext: not base64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, k := good, key
			c.edit(&b, &k)
			_, err := Open(k, b)
			if !errors.Is(err, errdefs.ErrInvalidArgument) || err.Error() != c.want {
				t.Errorf("Open = %v, want invalid argument %q", err, c.want)
			}
		})
	}
	// Content that is not a map of strings, sealed with the right key.
	nonce := make([]byte, 12)
	ct := newGCM(key).Seal(nil, nonce, []byte(`["a"]`), nil)
	odd := Bundle{Version: 1, Algorithm: Algorithm, Nonce: base64.StdEncoding.EncodeToString(nonce), Ciphertext: base64.StdEncoding.EncodeToString(ct)}
	if _, err := Open(key, odd); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("a list sealed as a bundle: %v", err)
	}
}

func TestParseKey(t *testing.T) {
	raw := testKey(7)
	for _, s := range []string{hex.EncodeToString(raw[:]), base64.StdEncoding.EncodeToString(raw[:]),
		base64.RawURLEncoding.EncodeToString(raw[:]), " " + hex.EncodeToString(raw[:]) + "\n"} {
		if k, err := ParseKey(s); err != nil || k != raw {
			t.Errorf("ParseKey(%q) = %x, %v", s, k, err)
		}
	}
	secret := "this-is-not-a-key-but-must-not-leak"
	for _, s := range []string{"", "abcd", hex.EncodeToString(raw[:16]), secret} {
		_, err := ParseKey(s)
		if err == nil || (s != "" && strings.Contains(err.Error(), s)) {
			t.Errorf("ParseKey(%q) = %v", s, err)
		}
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, SecretFileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, %v", st, err)
	}
	k2, err := LoadKey("", dir)
	if err != nil || k2 != k1 {
		t.Errorf("second load = %x, %v; want the same key", k2, err)
	}
	if k3, _ := LoadKey("", t.TempDir()); k3 == k1 {
		t.Error("two data dirs derived the same key")
	}
	raw := testKey(9)
	if k, err := LoadKey(hex.EncodeToString(raw[:]), dir); err != nil || k != raw {
		t.Errorf("configured key = %x, %v", k, err)
	}
	if _, err := LoadKey("short", dir); err == nil || !strings.HasPrefix(err.Error(), "credential-key: ") {
		t.Errorf("bad configured key: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, SecretFileName), []byte("zz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey("", dir); err == nil {
		t.Error("a damaged secret file was accepted")
	}
}

func FuzzOpen(f *testing.F) {
	key := testKey(3)
	// Sealed under a fixed nonce: every fuzz worker must see the same authentic bundle.
	nonce := make([]byte, nonceSize)
	ct := newGCM(key).Seal(nil, nonce, []byte(`{".env":"A=1"}`), nil)
	f.Add(1, Algorithm, base64.StdEncoding.EncodeToString(nonce), base64.StdEncoding.EncodeToString(ct))
	f.Fuzz(func(t *testing.T, version int, alg, n, c string) {
		_, err := Open(key, Bundle{Version: version, Algorithm: alg, Nonce: n, Ciphertext: c})
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) && !errors.Is(err, errdefs.ErrTooLarge) {
				t.Fatalf("error of another class: %v", err)
			}
			return
		}
		// Only the authentic bundle opens (base64 may spell it differently).
		gotN, _ := base64.StdEncoding.DecodeString(n)
		gotC, _ := base64.StdEncoding.DecodeString(c)
		if !bytes.Equal(gotN, nonce) || !bytes.Equal(gotC, ct) {
			t.Fatalf("a forged bundle opened: nonce %x, ciphertext %x", gotN, gotC)
		}
	})
}

// TestConfigAcceptsWhatParseKeyAccepts holds config's check of --credential-key to the
// same answers as ParseKey.
func TestConfigAcceptsWhatParseKeyAccepts(t *testing.T) {
	raw := testKey(5)
	for _, s := range []string{hex.EncodeToString(raw[:]), base64.StdEncoding.EncodeToString(raw[:]), base64.RawStdEncoding.EncodeToString(raw[:]),
		base64.URLEncoding.EncodeToString(raw[:]), base64.RawURLEncoding.EncodeToString(raw[:]), " " + hex.EncodeToString(raw[:]),
		"short", hex.EncodeToString(raw[:31]), base64.StdEncoding.EncodeToString(append(raw[:], 0)), "zz" + hex.EncodeToString(raw[:31])} {
		c := config.Default()
		c.CredentialKey = s
		_, perr := ParseKey(s)
		cerr := c.Validate()
		if (perr == nil) != (cerr == nil) {
			t.Errorf("key %q: ParseKey %v, config %v", s, perr, cerr)
		}
	}
}
