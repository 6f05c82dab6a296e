package engine

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/sandbox"
)

// probe runs a Python snippet that makes one raw syscall and prints "ok" or the errno name.
func probe(call string) string {
	return fmt.Sprintf(`python3 -c '
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
r = %s
print("ok" if r >= 0 else errno.errorcode[ctypes.get_errno()])'`, call)
}

func TestSecurityProfiles(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("syscall probes use x86_64 syscall numbers")
	}
	eng, _ := newTestEngine(t)
	probes := map[string]string{
		"mount":   "mount -t tmpfs none /mnt 2>/dev/null && echo ok || echo denied",
		"unshare": "unshare -n true 2>/dev/null && echo ok || echo denied",
		"ptrace":  probe("libc.ptrace(0, 0, 0, 0)"),                        // PTRACE_TRACEME
		"module":  probe("libc.syscall(313, -1, b\"\", 0)"),                // finit_module
		"keyctl":  probe("libc.syscall(250, 0, ctypes.c_int(-3), 0)"),      // keyctl(GET_KEYRING_ID)
		"bpf":     probe("libc.syscall(321, 0, 0, 0)"),                     // bpf
		"userns":  "unshare -U true 2>/dev/null && echo ok || echo denied", // clone(CLONE_NEWUSER)
		"uid":     "id -u",
		"capeff":  "grep CapEff /proc/self/status | tr -d '\\t' | cut -d: -f2", // effective caps
	}
	want := map[string]map[string]string{
		"permissive": {"mount": "denied", "unshare": "denied", "ptrace": "ok", "module": "EPERM",
			"keyctl": "EPERM", "bpf": "EPERM", "userns": "denied", "uid": "0", "capeff": "00000000a80425fb"},
		"moderate": {"mount": "denied", "unshare": "denied", "ptrace": "EPERM", "module": "EPERM",
			"keyctl": "EPERM", "bpf": "EPERM", "userns": "denied", "uid": "0", "capeff": "00000000000004fb"},
		"restrictive": {"mount": "denied", "unshare": "denied", "ptrace": "EPERM", "module": "EPERM",
			"keyctl": "EPERM", "bpf": "EPERM", "userns": "denied", "uid": "1000", "capeff": "0000000000000000"},
	}
	for prof, expect := range want {
		t.Run(prof, func(t *testing.T) {
			sb := mustCreate(t, eng, sandbox.Spec{Name: "sec-" + prof, Profile: prof})
			for name, script := range probes {
				got := strings.TrimSpace(string(sh(t, eng, sb.ID, script).Stdout))
				if got != expect[name] {
					t.Errorf("%s: %s = %q, want %q", prof, name, got, expect[name])
				}
			}
		})
	}
}

func TestRestrictiveReadOnlyRoot(t *testing.T) {
	eng, _ := newTestEngine(t)
	sb := mustCreate(t, eng, sandbox.Spec{Name: "ro", Profile: "restrictive"})
	if res := sh(t, eng, sb.ID, "touch /etc/x"); res.ExitCode == 0 {
		t.Error("root filesystem is writable under restrictive")
	}
	if res := sh(t, eng, sb.ID, "touch /home/user/x"); res.ExitCode == 0 {
		t.Error("/home/user is writable under restrictive (root must be read-only)")
	}
	shOK(t, eng, sb.ID, "echo hi > /tmp/x && cat /tmp/x")
	if res := sh(t, eng, sb.ID, "cp /bin/true /tmp/t && /tmp/t"); res.ExitCode == 0 {
		t.Error("/tmp allows exec under restrictive (want noexec)")
	}
	if got := shOK(t, eng, sb.ID, "df -m /tmp | tail -1 | awk '{print $2}'"); got != "64" {
		t.Errorf("/tmp size = %s MiB, want 64", got)
	}
}
