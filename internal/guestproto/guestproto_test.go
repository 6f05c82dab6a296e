package guestproto_test

import (
	"testing"

	"github.com/paddock/paddock/internal/guestproto"
)

func TestSign(t *testing.T) {
	// Vectors computed independently: "v1_" + unpadded base64(sha256(raw)).
	cases := []struct {
		path, op, user, token string
		exp                   int64
		want                  string
	}{
		{"/home/user/a.txt", "read", "user", "tok", 0, "v1_p0WqJQYCLtO6YX+e4h7VbpybRsdJbMbIw7clYpulIJk"},
		{"/home/user/a.txt", "write", "", "tok", 1700000000, "v1_QdtRqpz7xKNXzcs4IguYpySRPZbSGp8b64s9hqOl+wo"},
	}
	for _, tc := range cases {
		t.Run(tc.op, func(t *testing.T) {
			if got := guestproto.Sign(tc.path, tc.op, tc.user, tc.token, tc.exp); got != tc.want {
				t.Errorf("Sign = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestBasicAuthRoundTrip(t *testing.T) {
	for _, user := range []string{"user", "root", "1000", "名前"} {
		if got, ok := guestproto.BasicUser(guestproto.BasicAuth(user)); !ok || got != user {
			t.Errorf("BasicUser(BasicAuth(%q)) = %q, %v", user, got, ok)
		}
	}
	if _, ok := guestproto.BasicUser("Bearer x"); ok {
		t.Error("a bearer header names a user")
	}
}

func TestCommandNotFound(t *testing.T) {
	msg := guestproto.CommandNotFound("no-such-cmd")
	if msg != "no-such-cmd: command not found" || !guestproto.IsCommandNotFound(msg) {
		t.Errorf("message %q", msg)
	}
	if guestproto.IsCommandNotFound("open /x: no such file or directory") {
		t.Error("another not-found message taken for a missing command")
	}
}
