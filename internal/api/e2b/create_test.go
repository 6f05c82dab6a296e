package e2b_test

import (
	"strings"
	"testing"
)

// TestCreateFieldsAreHonouredOrRefused sends what the official SDKs and Agent-Sandbox send
// (accepted) and fields Paddock does not know or cannot honour (refused by name, 400).
func TestCreateFieldsAreHonouredOrRefused(t *testing.T) {
	p := newPlane(t)
	accepted := map[string]map[string]any{
		"e2b 2.51 (v2)": {"templateID": "base", "metadata": map[string]string{"a": "b"}, "envVars": map[string]string{"X": "1"},
			"timeout": 60, "network": map[string]any{"allowOut": []string{"1.1.1.1"}, "denyOut": []string{"0.0.0.0/0"}, "allowPublicTraffic": true},
			"autoResume": map[string]any{"enabled": false}},
		"e2b 2.50 (v1)": {"templateID": "base", "timeout": 60, "allow_internet_access": true, "secure": true},
		"python":        {"templateID": "base", "autoPause": false, "metadata": map[string]string{}, "envVars": map[string]string{}, "secure": true, "allow_internet_access": true, "timeout": 300},
		"agent-sandbox": {"templateID": "code-interpreter-v1", "allowInternetAccess": true, "autoPause": false, "mcp": nil},
		"nulls":         {"templateID": "base", "network": map[string]any{"egressProxy": nil, "rules": map[string]any{}}, "iam": nil, "volumeMounts": []any{}},
	}
	for name, body := range accepted {
		var got map[string]any
		if code := p.call("POST", "/v2/sandboxes", body, &got); code != 201 {
			t.Errorf("%s: %d %v", name, code, got)
		}
	}
	refused := []struct {
		body any
		says string
	}{
		{`{"templateID":"base","bogus":1}`, `"bogus"`},
		{`{"templateID":"base","network":{"allowOut":[],"bogus":true}}`, `"bogus"`},
		{`{"templateID":"base","network":{"maskRequestHost":"localhost:${PORT}"}}`, "maskRequestHost"},
		{`{"templateID":"base","network":{"httpsPorts":[443]}}`, "httpsPorts"},
		{`{"templateID":"base","network":{"egressProxy":{"address":"p:1"}}}`, "egressProxy"},
		{`{"templateID":"base","autoPauseMemory":false}`, "autoPauseMemory"},
		{`{"templateID":"base","autoResume":{"enabled":true}}`, "autoResume"},
		{`{"templateID":"base","autoPause":true,"autoPauseMemory":false,"autoResume":{"enabled":true}}`, "autoResume"},
		{`{"templateID":"base","metadata":{"idleTimeout":"soon"}}`, "idleTimeout"},
		{`{"templateID":"base","autoResume":{"enabled":false,"x":1}}`, `"x"`},
		{`{"templateID":"base","mcp":{"server":{}}}`, "mcp"},
		{`{"templateID":"base","iam":{"tokens":{"gh":{"audience":"a","tokenType":"t"}}}}`, "iam"},
		{`{"templateID":"base","volumeMounts":[{"name":"v","path":"/data"}]}`, "volumeMounts"},
		{`{"templateID":"base","allow_internet_access":true,"allowInternetAccess":false}`, "allowInternetAccess"},
	}
	for _, c := range refused {
		var got struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if code := p.call("POST", "/v2/sandboxes", c.body, &got); code != 400 || got.Code != 400 || !strings.Contains(got.Message, c.says) {
			t.Errorf("%v: %d %+v, want 400 naming %s", c.body, code, got, c.says)
		}
	}
}

// TestAgentSandboxInternetSpelling: Agent-Sandbox's allowInternetAccess: false takes the
// internet away, as E2B's allow_internet_access: false does.
func TestAgentSandboxInternetSpelling(t *testing.T) {
	p := newPlane(t)
	for _, field := range []string{"allow_internet_access", "allowInternetAccess"} {
		id := p.create(map[string]any{"templateID": "base", field: false})
		var d struct {
			AllowInternetAccess *bool `json:"allowInternetAccess"`
			Network             struct {
				DenyOut []string `json:"denyOut"`
			} `json:"network"`
		}
		p.call("GET", "/sandboxes/"+id, nil, &d)
		if d.AllowInternetAccess == nil || *d.AllowInternetAccess || len(d.Network.DenyOut) != 1 || d.Network.DenyOut[0] != "0.0.0.0/0" {
			t.Errorf("%s: false: the sandbox keeps the internet: %+v", field, d)
		}
		// The same spellings on PUT /network give it back.
		if code := p.call("PUT", "/sandboxes/"+id+"/network", map[string]any{field: true}, nil); code != 204 {
			t.Errorf("%s: PUT network: %d", field, code)
		}
		p.call("GET", "/sandboxes/"+id, nil, &d)
		if d.AllowInternetAccess == nil || !*d.AllowInternetAccess {
			t.Errorf("%s: true on PUT /network: %+v", field, d)
		}
	}
	var e struct{ Message string }
	if code := p.call("PUT", "/sandboxes/"+p.create(map[string]any{"templateID": "base"})+"/network",
		`{"allowOut":[],"allowPublicTraffic":false}`, &e); code != 400 || !strings.Contains(e.Message, "allowPublicTraffic") {
		t.Errorf("PUT /network with a field it does not take: %d %q", code, e.Message)
	}
}
