package guestproto

import (
	"crypto/sha256"
	"encoding/base64"
	"strconv"
)

// Sign computes the v1 signature of a presigned /files URL: "v1_" + base64 (standard
// alphabet, no padding) of sha256("path:operation:user:token[:expiration]"). operation is
// "read" or "write", user "" when the URL names none, expiration 0 = none.
func Sign(path, operation, user, token string, expiration int64) string {
	raw := path + ":" + operation + ":" + user + ":" + token
	if expiration != 0 {
		raw += ":" + strconv.FormatInt(expiration, 10)
	}
	sum := sha256.Sum256([]byte(raw))
	return "v1_" + base64.RawStdEncoding.EncodeToString(sum[:])
}
