// Package storetest is the conformance suite every sandbox.Store (and sandbox.RunStore)
// passes: the stores' own tests call Run with a constructor.
package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/sandbox"
)

// Run runs every case against a fresh store from newStore, which returns an empty store and
// arranges for it to be closed (t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) sandbox.Store) {
	cases := []struct {
		name string
		fn   func(*testing.T, sandbox.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"ReturnsCopies", testReturnsCopies},
		{"DuplicateID", testDuplicateID},
		{"DuplicateName", testDuplicateName},
		{"IDWinsOverName", testIDWinsOverName},
		{"Update", testUpdate},
		{"UpdateUnknown", testUpdateUnknown},
		{"UpdateToTakenName", testUpdateToTakenName},
		{"Delete", testDelete},
		{"InvalidRecords", testInvalidRecords},
		{"ListFiltersAndOrder", testListFiltersAndOrder},
		{"ConcurrentSameName", testConcurrentSameName},
		{"ConcurrentCreates", testConcurrentCreates},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newStore(t)) })
	}
}

// epoch is the base of every time in the suite: fixed (no test depends on the clock) and
// with a microsecond part, the precision every store must keep.
var epoch = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

// egress is the fixture's egress policy.
var egress = sandbox.EgressPolicy{AllowOut: []string{"10.0.0.0/8", "*.example.com"}, DenyOut: []string{"0.0.0.0/0"}}

// record returns a sandbox with every field set (TestFixtureIsComplete keeps it so).
func record(id, name string, created time.Time) *sandbox.Sandbox {
	started, expires := created.Add(1500*time.Microsecond), created.Add(time.Hour)
	return &sandbox.Sandbox{
		ID: id, Name: name, Owner: "alice", State: sandbox.StateRunning,
		CreatedAt: created, UpdatedAt: created.Add(time.Microsecond), StartedAt: &started, ExpiresAt: &expires,
		GuestToken: "tok-" + id, TrafficToken: "traffic-" + id, Reason: "none yet", Node: "m1",
		Spec: sandbox.Spec{Name: name, Image: "base", Profile: "moderate", VCPUs: 0.5, MemoryMB: 256, Pids: 64, DiskMB: 512,
			Env: map[string]string{"A": "1", "EMPTY": ""}, Workdir: "/workspace", User: "user", DefaultUser: "user",
			Network: sandbox.NetworkEgress, Egress: egress, TTL: 90 * time.Minute, OnExpire: sandbox.ExpireStop, AutoResume: true, IdleTimeout: time.Minute,
			Labels: map[string]string{"team": "x"}, Template: "web", Port: 3000, PublicPorts: []int{3000, 8080},
			StartCmd: []string{"/bin/sh", "-c", "serve"},
			Mounts:   []sandbox.Mount{{Volume: "ws-1", SubPath: "output", Destination: "/home/developer/output", ReadOnly: true}}},
		Instance: sandbox.InstanceSpec{ID: id, Hostname: "sandbox", Template: "web", Network: sandbox.NetworkEgress, Egress: egress,
			Labels: map[string]string{"paddock.sandbox.name": name},
			Mounts: []sandbox.Mount{{Volume: "ws-1", SubPath: "output", Destination: "/home/developer/output", ReadOnly: true}},
			Image: sandbox.Image{Ref: "base", Layers: []string{"/l0", "/l1"},
				Binds:  []sandbox.Bind{{Source: "/usr", Destination: "/usr"}},
				Config: sandbox.ImageConfig{Env: []string{"PATH=/usr/bin"}, WorkingDir: "/home/user", User: "user"}},
			Resources: sandbox.Resources{VCPUs: 0.5, MemoryMB: 256, Pids: 64, DiskMB: 512},
			Security: sandbox.Security{Profile: "moderate", ReadOnlyRoot: true, TmpSizeMB: 64, UID: 1000, GID: 1000,
				Capabilities: []string{"CAP_KILL", "CAP_CHOWN"}, Seccomp: "moderate",
				Rlimits: []sandbox.Rlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 8192}}}},
	}
}

// zeroFields lists the fields of v (a struct) left at their zero value, as dotted paths;
// slices, maps and pointers count as set when non-empty, and are looked into.
func zeroFields(v reflect.Value, path string) []string {
	if v.Type() == reflect.TypeFor[time.Time]() {
		if v.Interface().(time.Time).IsZero() {
			return []string{path}
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		var out []string
		for i := range v.NumField() {
			out = append(out, zeroFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return []string{path}
		}
		return zeroFields(v.Elem(), path)
	case reflect.Slice:
		if v.Len() == 0 {
			return []string{path}
		}
		var out []string
		for i := range v.Len() {
			out = append(out, zeroFields(v.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	if v.IsZero() || (v.Kind() == reflect.Map && v.Len() == 0) {
		return []string{path}
	}
	return nil
}

// normalize puts every time of sb in UTC, so that records compare with reflect.DeepEqual
// whatever location a store decodes times into.
func normalize(sb *sandbox.Sandbox) *sandbox.Sandbox {
	c := *sb
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	if c.StartedAt != nil {
		v := c.StartedAt.UTC()
		c.StartedAt = &v
	}
	if c.ExpiresAt != nil {
		v := c.ExpiresAt.UTC()
		c.ExpiresAt = &v
	}
	return &c
}

func sameRecord(t *testing.T, what string, got, want *sandbox.Sandbox) {
	t.Helper()
	if !reflect.DeepEqual(normalize(got), normalize(want)) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}
