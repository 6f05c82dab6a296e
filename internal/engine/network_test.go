package engine

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

// engineSubnet is the documentation range this package's test internet uses.
var engineSubnet = netip.MustParsePrefix("198.51.100.0/24")

// fetchPy fetches argv[1] (with an optional Host header argv[2]) and prints the body, or
// "ERR <exception class>" when the request fails; it never hangs longer than 10 s.
const fetchPy = `
import sys, urllib.request
req = urllib.request.Request(sys.argv[1])
if len(sys.argv) > 2:
    req.add_header("Host", sys.argv[2])
try:
    print(urllib.request.urlopen(req, timeout=10).read().decode())
except Exception as e:
    print("ERR", type(e).__name__, e)
`

// fetch runs fetchPy in the sandbox.
func fetch(t *testing.T, eng *Engine, id string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := eng.Exec(ctx, id, manager.ExecRequest{Command: append([]string{"python3", "-c", fetchPy}, args...), Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("fetch %v: %v", args, err)
	}
	return strings.TrimSpace(string(res.Stdout) + string(res.Stderr))
}

// egressWorld is an engine whose egress sandboxes resolve allowed.test and blocked.test to a
// test internet host.
func egressWorld(t *testing.T) (*Engine, *testenv.Internet) {
	testenv.NeedRunc(t)
	needPython(t)
	inet := testenv.StartInternet(t, engineSubnet)
	dns := testenv.StartDNS(t, map[string]netip.Addr{"allowed.test": inet.Addr, "blocked.test": inet.Addr})
	return openTestEngineDNS(t, testenv.TempDir(t), dns.Addr), inet
}

func needPython(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		testenv.Require(t, "interpreters", "python3 not installed: apt-get install python3")
	}
}

func TestEgressReachesTheInternetButNotTheHost(t *testing.T) {
	eng, inet := egressWorld(t)
	var hostHits atomic.Int64
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hostHits.Add(1) }))
	t.Cleanup(host.Close)
	port := host.Listener.Addr().(*net.TCPAddr).Port

	sb := mustCreate(t, eng, sandbox.Spec{Name: "egress"}) // moderate: egress by default
	if sb.Instance.Network != sandbox.NetworkEgress {
		t.Fatalf("moderate sandbox network = %q, want egress", sb.Instance.Network)
	}
	if got := shOK(t, eng, sb.ID, "ls /sys/class/net | tr '\\n' ' '"); got != "eth0 lo" {
		t.Errorf("interfaces = %q, want eth0 and lo", got)
	}
	if got := fetch(t, eng, sb.ID, "http://allowed.test/"); got != "hello from allowed.test" {
		t.Errorf("GET allowed.test = %q", got)
	}
	for _, url := range []string{
		fmt.Sprintf("http://127.0.0.1:%d/", port),         // the sandbox's own loopback
		fmt.Sprintf("http://10.0.2.2:%d/", port),          // the gateway
		fmt.Sprintf("http://%s:%d/", inet.HostAddr, port), // the host's address on the veth
		"http://169.254.169.254/latest/meta-data/",        // the metadata service
		"http://192.168.0.1/",                             // a private range
	} {
		if got := fetch(t, eng, sb.ID, url); !strings.HasPrefix(got, "ERR") {
			t.Errorf("GET %s from the sandbox = %q, want an error", url, got)
		}
	}
	if n := hostHits.Load(); n != 0 {
		t.Errorf("the host's loopback server got %d requests from the sandbox", n)
	}
	if !hasEvent(t, eng, sb.Name, "169.254.169.254:80") {
		t.Error("no policy_violation event for the metadata service")
	}
}

func TestEgressPolicyCIDRAndDomainRules(t *testing.T) {
	eng, inet := egressWorld(t)
	ctx := context.Background()
	sb := mustCreate(t, eng, sandbox.Spec{Name: "policy", Egress: sandbox.EgressPolicy{DenyOut: []string{"198.51.100.0/24"}}})
	if got := fetch(t, eng, sb.ID, "http://allowed.test/"); !strings.HasPrefix(got, "ERR") {
		t.Errorf("denied CIDR reachable: %q", got)
	}
	before := inet.Requests.Load()

	// Changed at run time: a domain rule instead of the CIDR.
	if _, err := eng.SetEgress(ctx, sb.Name, sandbox.EgressPolicy{DenyOut: []string{"blocked.test"}}); err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, eng, sb.ID, "http://allowed.test/"); got != "hello from allowed.test" {
		t.Errorf("after the change, GET allowed.test = %q", got)
	}
	if got := fetch(t, eng, sb.ID, "http://blocked.test/"); !strings.Contains(got, "ERR") {
		t.Errorf("GET blocked.test = %q, want a failed lookup", got)
	}
	// The address of the denied name, asked for by that name: cut after the request head.
	if got := fetch(t, eng, sb.ID, inet.URL()+"/", "blocked.test"); !strings.HasPrefix(got, "ERR") {
		t.Errorf("GET %s with Host blocked.test = %q, want an error", inet.URL(), got)
	}
	if got := inet.Requests.Load() - before; got != 1 {
		t.Errorf("the internet host answered %d requests, want only the allowed one", got)
	}
	for _, want := range []string{"198.51.100.10:80", "blocked.test"} {
		if !hasEvent(t, eng, sb.Name, want) {
			t.Errorf("no policy_violation event mentioning %s", want)
		}
	}
	// Bad input names the entry; a sandbox without a network has no policy.
	if _, err := eng.SetEgress(ctx, sb.Name, sandbox.EgressPolicy{AllowOut: []string{"10.0.0.0/40"}}); err == nil || !strings.Contains(err.Error(), "10.0.0.0/40") {
		t.Errorf("invalid CIDR: %v", err)
	}
	none := mustCreate(t, eng, sandbox.Spec{Name: "none", Network: sandbox.NetworkNone})
	if _, err := eng.SetEgress(ctx, none.Name, sandbox.EgressPolicy{DenyOut: []string{"blocked.test"}}); err == nil {
		t.Error("a policy was set on a sandbox without a network")
	}
	if _, err := eng.Create(ctx, sandbox.Spec{Name: "bad", Network: sandbox.NetworkNone, Egress: sandbox.EgressPolicy{AllowOut: []string{"example.com"}}}, ""); err == nil {
		t.Error("create accepted allow_out with network none")
	}
}

func TestEgressPolicySurvivesStopStartAndAppliesToPooledSandboxes(t *testing.T) {
	testenv.NeedRunc(t)
	needPython(t)
	inet := testenv.StartInternet(t, engineSubnet)
	dns := testenv.StartDNS(t, map[string]netip.Addr{"allowed.test": inet.Addr})
	eng := openTestEngineDNS(t, testenv.TempDir(t), dns.Addr, manager.PoolConfig{Image: "base", Profile: "moderate", Size: 1})
	ctx := context.Background()
	waitPoolReady(t, eng, 1)
	sb := mustCreate(t, eng, sandbox.Spec{Name: "pooled", Egress: sandbox.EgressPolicy{DenyOut: []string{"allowed.test"}}})
	if got := fetch(t, eng, sb.ID, "http://allowed.test/"); !strings.HasPrefix(got, "ERR") {
		t.Errorf("pooled sandbox ignored its policy: %q", got)
	}
	// Changed while stopped: applies at start.
	if _, err := eng.Stop(ctx, sb.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.SetEgress(ctx, sb.Name, sandbox.EgressPolicy{}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Start(ctx, sb.Name); err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, eng, sb.ID, "http://allowed.test/"); got != "hello from allowed.test" {
		t.Errorf("after stop, policy change and start: %q", got)
	}
}

func TestEgressNetworkGoneAfterDelete(t *testing.T) {
	eng, dir := newTestEngine(t)
	ctx := context.Background()
	sb := mustCreate(t, eng, sandbox.Spec{Name: "gone"})
	nsPath := filepath.Join(dir, "sandboxes", sb.ID, "netns")
	var st syscall.Stat_t
	if err := syscall.Stat(nsPath, &st); err != nil {
		t.Fatalf("egress sandbox has no pinned netns: %v", err)
	}
	if err := eng.Delete(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(nsPath); !os.IsNotExist(err) {
		t.Errorf("netns file after delete: %v", err)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), sb.ID) {
		t.Error("a mount of the sandbox is left after delete")
	}
	// No process is left in the namespace: no /proc/*/ns/net refers to its inode.
	want := fmt.Sprintf("net:[%d]", st.Ino)
	procs, _ := filepath.Glob("/proc/[0-9]*/ns/net")
	for _, p := range procs {
		if l, err := os.Readlink(p); err == nil && l == want {
			t.Errorf("%s is still in the deleted sandbox's network namespace", p)
		}
	}
}

// hasEvent reports whether a policy_violation event of sandbox mentions s.
func hasEvent(t *testing.T, eng *Engine, sandboxName, s string) bool {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		evs, err := eng.Events.ListEvents(context.Background(), audit.Filter{Sandbox: sandboxName, Type: audit.PolicyViolation})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if strings.Contains(fmt.Sprint(ev.Details), s) {
				return true
			}
		}
	}
	return false
}
