// Package guestproto is what the host and the guest share of the guest protocol beyond the
// generated Connect RPC code: the advertised envd version, the environment the driver
// starts the guest with, header names, the JSON bodies of the plain HTTP routes, the
// signature of presigned /files URLs and the messages both sides recognise.
package guestproto

import (
	"encoding/base64"
	"strings"
)

// Version is the envd protocol version whose features the guest implements.
const Version = "0.6.13"

// Environment of the guest process, set by the driver that starts it.
const (
	// ListenFDEnv names the variable carrying the inherited listener's fd number.
	ListenFDEnv = "PADDOCK_GUEST_LISTEN_FD"
	// DefaultUIDEnv names the variable carrying the sandbox's default uid.
	DefaultUIDEnv = "PADDOCK_GUEST_UID"
	// UserCgroupFDsEnv names the variable carrying the comma-separated fds of the cgroup
	// files ("tasks" on cgroup v1, "cgroup.threads" on v2) through which the guest puts
	// its spawning thread, and so every process it starts, in the sandbox's user cgroups.
	UserCgroupFDsEnv = "PADDOCK_GUEST_USER_CGROUP_FDS"
	// TokenEnv names the variable carrying the connection token of a guest that listens on
	// TCP (`paddock guest --listen`): a pod's network is shared with other pods, so every
	// connection must open with TokenPreamble. The guest unsets it before it starts anything.
	TokenEnv = "PADDOCK_GUEST_TOKEN"
)

// DefaultTCPPort is the port a guest in TCP mode listens on in its pod.
const DefaultTCPPort = 49983

// TokenPreamble is what a host writes first on a connection to a guest in TCP mode, before
// any HTTP: the token and a newline, after a fixed prefix.
func TokenPreamble(token string) []byte { return []byte("PADDOCK-GUEST " + token + "\n") }

// Headers of the guest protocol.
const (
	// AccessTokenHeader carries the sandbox's access token (envd's X-Access-Token).
	AccessTokenHeader = "X-Access-Token"
	// KeepaliveHeader asks a stream for a keepalive event after this many seconds of silence.
	KeepaliveHeader = "Keepalive-Ping-Interval"
)

// BasicAuth is the Authorization header value that selects user in the guest.
func BasicAuth(user string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"))
}

// BasicUser extracts the username of an HTTP Basic Authorization header value.
func BasicUser(authz string) (string, bool) {
	const prefix = "Basic "
	if len(authz) < len(prefix) || !strings.EqualFold(authz[:len(prefix)], prefix) {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(authz[len(prefix):]))
	if err != nil {
		return "", false
	}
	name, _, _ := strings.Cut(string(raw), ":")
	return name, true
}

// OOMKilledError is the end event's error of a process killed by the sandbox's memory limit.
const OOMKilledError = "out of memory: killed by the sandbox memory limit"

// commandNotFound ends the not_found message of a start whose executable does not exist.
const commandNotFound = ": command not found"

// CommandNotFound is the message of a start whose executable cmd does not exist, as a shell
// words it.
func CommandNotFound(cmd string) string { return cmd + commandNotFound }

// IsCommandNotFound reports whether msg is a CommandNotFound message.
func IsCommandNotFound(msg string) bool { return strings.HasSuffix(msg, commandNotFound) }

// StartCmdTag is the tag of a sandbox's start command (a template's startCmd), as E2B tags
// it. The guest keeps the output of the processes so tagged as the sandbox's log (GET /logs).
const StartCmdTag = "startCmd"

// LoggedTag reports whether the guest keeps the output of processes tagged tag in the
// sandbox's log.
func LoggedTag(tag string) bool { return tag == StartCmdTag }

// LogLine is one line of the sandbox's log as GET /logs streams it (NDJSON).
type LogLine struct {
	Seq    uint64 `json:"seq"`
	Time   string `json:"time"`   // RFC 3339, UTC
	Source string `json:"source"` // the process: tag[pid]
	Stream string `json:"stream"` // stdout, stderr or pty
	Text   string `json:"text"`
}
