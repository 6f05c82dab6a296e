package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/server/servertest"
)

// The contract between the client and the native API, both real: the server on the fake
// driver (no root), every client method called at least once, and what goes in must come
// back out the same way.

// contract is a client that notes which of its methods a test called.
type contract struct {
	t      *testing.T
	s      *servertest.Server
	c      *client.Client
	ctx    context.Context
	called map[string]bool
}

func newContract(t *testing.T) *contract {
	t.Helper()
	s := servertest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return &contract{t: t, s: s, c: client.New(s.URL, servertest.Key), ctx: ctx, called: map[string]bool{}}
}

// call notes method and fails the test when err is set.
func (k *contract) call(method string, err error) {
	k.t.Helper()
	k.called[method] = true
	if err != nil {
		k.t.Fatalf("%s: %v", method, err)
	}
}

func TestContract(t *testing.T) {
	anth := sandcasterDouble(t)
	k := newContract(t)
	k.health()
	sb := k.sandboxes()
	k.exec(sb.Name)
	k.runs()
	k.files(sb.Name)
	k.network(sb.Name)
	k.ports(sb.Name)
	k.attach(sb.Name)
	k.images()
	k.templates()
	k.events(sb.Name)
	k.lifecycle(sb.Name)
	k.accounts()
	k.sandcaster(anth)
	// Every method of the client went through the server.
	for _, typ := range []reflect.Type{reflect.TypeFor[*client.Client](), reflect.TypeFor[*client.Attachment]()} {
		for i := range typ.NumMethod() {
			if name := typ.Elem().Name() + "." + typ.Method(i).Name; !k.called[name] {
				t.Errorf("%s is not covered by the contract test", name)
			}
		}
	}
}

func (k *contract) health() {
	status, version, err := k.c.Health(k.ctx)
	k.call("Client.Health", err)
	if status != "ok" || version != "test" {
		k.t.Errorf("health: %q %q", status, version)
	}
}

// sandboxes creates a sandbox with every field of CreateRequest set and checks that create,
// get and list describe it alike.
func (k *contract) sandboxes() *client.Sandbox {
	t := k.t
	port := 3000
	req := client.CreateRequest{Name: "full", Image: "base", Profile: "moderate", VCPUs: 1.5, MemoryMB: 256, Pids: 99,
		DiskMB: 128, Env: map[string]string{"GREETING": "hi"}, Workdir: os.TempDir(), User: servertest.User,
		TTL: "1h", OnExpire: "stop", Labels: map[string]string{"team": "a"}, Network: "egress",
		AllowOut: []string{"192.0.2.0/24"}, DenyOut: []string{"198.51.100.1"}, Port: &port, PublicPorts: []int{3000},
		Template: "base"}
	before := time.Now()
	sb, err := k.c.CreateSandbox(k.ctx, req)
	k.call("Client.CreateSandbox", err)
	want := client.Sandbox{Name: req.Name, ID: sb.ID, Status: "running", Backend: "fake", Owner: sb.Owner, Image: req.Image,
		Profile: req.Profile, VCPUs: req.VCPUs, MemoryMB: req.MemoryMB, Pids: req.Pids, DiskMB: req.DiskMB,
		Network: req.Network, AllowOut: req.AllowOut, DenyOut: req.DenyOut, CreatedAt: sb.CreatedAt,
		StartedAt: sb.StartedAt, ExpiresAt: sb.ExpiresAt, OnExpire: req.OnExpire, Labels: req.Labels, Port: port,
		PublicPorts: req.PublicPorts, TrafficToken: sb.TrafficToken, Template: req.Template}
	if !reflect.DeepEqual(*sb, want) {
		t.Errorf("created:\n got %+v\nwant %+v", *sb, want)
	}
	if sb.ID == "" || sb.Owner == "" || sb.TrafficToken == "" || sb.CreatedAt.IsZero() || sb.StartedAt == nil || sb.ExpiresAt == nil ||
		sb.ExpiresAt.Before(before.Add(59*time.Minute)) {
		t.Errorf("created: id %q, token %q, times %v %v %v", sb.ID, sb.TrafficToken, sb.CreatedAt, sb.StartedAt, sb.ExpiresAt)
	}
	for _, key := range []string{sb.Name, sb.ID} {
		got, err := k.c.GetSandbox(k.ctx, key)
		k.call("Client.GetSandbox", err)
		if !reflect.DeepEqual(got, sb) {
			t.Errorf("get %s:\n got %+v\nwant %+v", key, *got, *sb)
		}
	}
	plain, err := k.c.CreateSandbox(k.ctx, client.CreateRequest{Name: "plain"})
	k.call("Client.CreateSandbox", err)
	list, err := k.c.ListSandboxes(k.ctx)
	k.call("Client.ListSandboxes", err)
	if len(list) != 2 || !slices.ContainsFunc(list, func(s client.Sandbox) bool { return reflect.DeepEqual(s, *sb) }) ||
		!slices.ContainsFunc(list, func(s client.Sandbox) bool { return reflect.DeepEqual(s, *plain) }) {
		t.Errorf("list: %+v, want %+v and %+v", list, *sb, *plain)
	}
	if plain.Port != 8080 || plain.ExpiresAt != nil || plain.OnExpire != "" || plain.Labels != nil || plain.Template != "" {
		t.Errorf("defaults: %+v", *plain)
	}
	// A port of 0 is sent, and refused, rather than taken for none.
	zero := 0
	_, err = k.c.CreateSandbox(k.ctx, client.CreateRequest{Name: "p0", Port: &zero})
	var cerr *client.Error
	if !errors.As(err, &cerr) || cerr.Status != 400 || !strings.Contains(cerr.Message, "port 0") {
		t.Errorf("port 0: %v, want 400 naming it", err)
	}
	return plain
}

func (k *contract) exec(name string) {
	t := k.t
	stdin := "piped"
	res, err := k.c.Exec(k.ctx, name, client.ExecRequest{Command: []string{"sh", "-c", `cat; echo "$GREETING" "$(pwd)" >&2; exit 3`},
		Env: map[string]string{"GREETING": "hi"}, Cwd: os.TempDir(), User: servertest.User, Stdin: &stdin, Timeout: 60})
	k.call("Client.Exec", err)
	if want := "hi " + os.TempDir() + "\n"; res.Stdout != "piped" || res.Stderr != want || res.ExitCode != 3 ||
		res.Sandbox != "" || res.TimedOut || res.Truncated || res.OOMKilled || res.Reason != "" {
		t.Errorf("exec: %+v", *res)
	}
	var evs []client.Event
	err = k.c.ExecStream(k.ctx, name, client.ExecRequest{Command: []string{"sh", "-c", "echo one; exit 5"}},
		func(ev client.Event) error { evs = append(evs, ev); return nil })
	k.call("Client.ExecStream", err)
	if got := eventSummary(evs); got != "started:"+name+" progress:executing output:stdout:one\n done:5" {
		t.Errorf("exec stream: %s", got)
	}
}

// TestPullProgressEvent: a pull's progress event, as the server sends it, is a PullProgress
// to the client.
func TestPullProgressEvent(t *testing.T) {
	want := apitype.PullProgress{Ref: "r:1", Layer: "sha256:ab", Index: 2, Layers: 3, Current: 5, Total: 9, Done: true, Cached: true}
	raw, err := json.Marshal(apitype.PullEvent{Stage: "pulling", PullProgress: want})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := (client.Event{Type: "progress", Stage: "pulling", Data: raw}).PullProgress(); !ok || got != want {
		t.Errorf("progress %s: %+v %v, want %+v", raw, got, ok, want)
	}
	if _, ok := (client.Event{Type: "progress", Stage: "creating", Data: []byte(`{"stage":"creating"}`)}).PullProgress(); ok {
		t.Error("a creating stage is not a pull update")
	}
}

// js is v in JSON, for messages.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// eventSummary is the events in one line: type and the fields the type carries.
func eventSummary(evs []client.Event) string {
	var parts []string
	for _, ev := range evs {
		switch ev.Type {
		case "started":
			parts = append(parts, "started:"+ev.Sandbox)
		case "progress":
			parts = append(parts, "progress:"+ev.Stage)
		case "output":
			parts = append(parts, "output:"+ev.Stream+":"+ev.Content)
		case "done":
			parts = append(parts, "done:"+strings.TrimSpace(strings.Join([]string{strconv.Itoa(ev.ExitCode), ev.Reason}, " ")))
		default:
			parts = append(parts, ev.Type+":"+ev.Message)
		}
	}
	return strings.Join(parts, " ")
}

func (k *contract) runs() {
	t := k.t
	fast := false
	res, err := k.c.Run(k.ctx, client.RunRequest{ExecRequest: client.ExecRequest{Command: []string{"echo", "ran"}},
		Image: "base", Profile: "moderate", Fast: &fast, VCPUs: 1, MemoryMB: 256, Pids: 64, DiskMB: 128,
		Network: "none", Template: "base"})
	k.call("Client.Run", err)
	if res.Stdout != "ran\n" || res.Output != "ran\n" || res.ExitCode != 0 || !strings.HasPrefix(res.Sandbox, "run-") {
		t.Errorf("run: %+v", *res)
	}
	batch, err := k.c.RunBatch(k.ctx, []client.RunRequest{
		{ExecRequest: client.ExecRequest{Command: []string{"echo", "a"}}},
		{ExecRequest: client.ExecRequest{Command: []string{"sh", "-c", "echo b >&2; exit 2"}}},
		{ExecRequest: client.ExecRequest{Command: []string{"true"}}, Profile: "yolo"},
	})
	k.call("Client.RunBatch", err)
	if len(batch) != 3 || batch[0].Stdout != "a\n" || batch[0].Error != nil || batch[0].ExitCode == nil || *batch[0].ExitCode != 0 ||
		batch[1].Stderr != "b\n" || batch[1].ExitCode == nil || *batch[1].ExitCode != 2 ||
		batch[2].Error == nil || !strings.Contains(*batch[2].Error, "yolo") || batch[2].ExitCode != nil {
		t.Errorf("batch: %+v", batch)
	}
	var evs []client.Event
	err = k.c.RunStream(k.ctx, client.RunRequest{ExecRequest: client.ExecRequest{Command: []string{"echo", "streamed"}}},
		func(ev client.Event) error { evs = append(evs, ev); return nil })
	k.call("Client.RunStream", err)
	got := eventSummary(evs)
	if len(evs) == 0 || !strings.HasPrefix(evs[0].Sandbox, "run-") ||
		!strings.HasSuffix(got, " progress:creating progress:starting progress:executing output:stdout:streamed\n done:0") {
		t.Errorf("run stream: %s", got)
	}
}

func (k *contract) files(name string) {
	t := k.t
	dir := servertest.Dir(t)
	small := []byte("bin\x00ary\xff")
	k.call("Client.WriteFile", k.c.WriteFile(k.ctx, name, dir+"/small", small))
	got, err := k.c.ReadFile(k.ctx, name, dir+"/small")
	k.call("Client.ReadFile", err)
	if !bytes.Equal(got, small) {
		t.Errorf("read back %q, want %q", got, small)
	}
	big := bytes.Repeat([]byte("0123456789"), 100_000)
	k.call("Client.Upload", k.c.Upload(k.ctx, name, dir+"/big file", bytes.NewReader(big), int64(len(big))))
	rc, size, err := k.c.Download(k.ctx, name, dir+"/big file")
	k.call("Client.Download", err)
	got, err = io.ReadAll(rc)
	rc.Close()
	if err != nil || size != int64(len(big)) || !bytes.Equal(got, big) {
		t.Errorf("download: %d bytes (size %d), %v", len(got), size, err)
	}
	k.call("Client.DeleteFile", k.c.DeleteFile(k.ctx, name, dir+"/small"))
	if _, err := k.c.ReadFile(k.ctx, name, dir+"/small"); !client.IsNotFound(err) {
		t.Errorf("read after delete: %v, want not found", err)
	}
}

func (k *contract) network(name string) {
	t := k.t
	p := client.NetworkPolicy{AllowOut: []string{"192.0.2.0/24", "*.example.com"}, DenyOut: []string{"198.51.100.7"}}
	sb, err := k.c.SetNetwork(k.ctx, name, p)
	k.call("Client.SetNetwork", err)
	again, err := k.c.GetSandbox(k.ctx, name)
	k.call("Client.GetSandbox", err)
	if !slices.Equal(sb.AllowOut, p.AllowOut) || !slices.Equal(sb.DenyOut, p.DenyOut) || !reflect.DeepEqual(sb, again) {
		t.Errorf("network: %+v, then get %+v", *sb, *again)
	}
	sb, err = k.c.SetNetwork(k.ctx, name, client.NetworkPolicy{})
	k.call("Client.SetNetwork", err)
	if sb.AllowOut != nil || sb.DenyOut != nil {
		t.Errorf("cleared network: %+v", *sb)
	}
}

func (k *contract) ports(name string) {
	t := k.t
	v, err := k.c.SetPortPublic(k.ctx, name, 3000, true)
	k.call("Client.SetPortPublic", err)
	want := client.PortVisibility{Sandbox: name, Port: 3000, Public: true, PublicPorts: []int{3000}}
	if !reflect.DeepEqual(*v, want) {
		t.Errorf("public: %+v, want %+v", *v, want)
	}
	if sb, err := k.c.GetSandbox(k.ctx, name); err != nil || !slices.Equal(sb.PublicPorts, []int{3000}) {
		t.Errorf("public ports on the sandbox: %v %v", sb, err)
	}
	v, err = k.c.SetPortPublic(k.ctx, name, 3000, false)
	k.call("Client.SetPortPublic", err)
	if want := (client.PortVisibility{Sandbox: name, Port: 3000, PublicPorts: []int{}}); !reflect.DeepEqual(*v, want) {
		t.Errorf("private: %+v, want %+v", *v, want)
	}
	k.called["Client.PortURL"] = true
	if got, want := k.c.PortURL(name, 3000), k.s.URL+"/sandboxes/"+name+"/ports/3000/"; got != want {
		t.Errorf("port URL %q, want %q", got, want)
	}
}

func (k *contract) attach(name string) {
	t := k.t
	att, err := k.c.Attach(k.ctx, name, client.AttachRequest{Command: []string{"sh", "-c", `cat; echo "$X" >&2; exit 4`},
		Env: map[string]string{"X": "env"}, Cwd: os.TempDir(), User: servertest.User})
	k.call("Client.Attach", err)
	k.call("Attachment.Send", att.Send(client.AttachMessage{Type: "stdin", Data: []byte("in\x00put")}))
	k.call("Attachment.Send", att.Send(client.AttachMessage{Type: "eof"}))
	streams := map[string]string{}
	for {
		m, err := att.Receive()
		k.call("Attachment.Receive", err)
		if m.Type == "exit" {
			if m.ExitCode != 4 || streams["stdout"] != "in\x00put" || streams["stderr"] != "env\n" {
				t.Errorf("attach: exit %d, %q", m.ExitCode, streams)
			}
			break
		}
		if m.Type != "output" {
			t.Fatalf("attach: %+v", m)
		}
		streams[m.Stream] += string(m.Data)
	}
	k.call("Attachment.Close", att.Close())
}

func (k *contract) images() {
	t := k.t
	img, err := k.c.ImportImage(k.ctx, "local/contract:1", strings.NewReader("an archive"))
	k.call("Client.ImportImage", err)
	if img.Ref != "local/contract:1" || !strings.HasPrefix(img.Digest, "sha256:") || img.Layers != 1 {
		t.Errorf("import: %+v", *img)
	}
	list, err := k.c.ListImages(k.ctx)
	k.call("Client.ListImages", err)
	if want := []client.Image{{Ref: "base"}, *img}; !reflect.DeepEqual(list, want) {
		t.Errorf("images: %+v, want %+v", list, want)
	}
	pulled, err := k.c.PullImage(k.ctx, img.Ref)
	k.call("Client.PullImage", err)
	streamed, err := k.c.PullImageStream(k.ctx, img.Ref, func(client.PullProgress) {})
	k.call("Client.PullImageStream", err)
	if pulled.Ref != img.Ref || streamed == nil || *streamed != *pulled {
		t.Errorf("pull: %+v, streamed %+v", pulled, streamed)
	}
	var cerr *client.Error
	if _, err := k.c.PullImageStream(k.ctx, "nope:2", nil); !errors.As(err, &cerr) || !strings.Contains(cerr.Message, "nope:2") {
		t.Errorf("streamed pull of a missing image: %v", err)
	}
	pr, err := k.c.PruneImages(k.ctx)
	k.call("Client.PruneImages", err)
	if *pr != (client.PruneResult{}) {
		t.Errorf("prune: %+v", *pr)
	}
	k.call("Client.RemoveImage", k.c.RemoveImage(k.ctx, img.Ref))
	if err := k.c.RemoveImage(k.ctx, img.Ref); !client.IsNotFound(err) {
		t.Errorf("remove twice: %v", err)
	}
}

// templates sends a template with every field set and reads it back unchanged.
func (k *contract) templates() {
	t := k.t
	builtin, err := k.c.ListTemplates(k.ctx)
	k.call("Client.ListTemplates", err)
	base, err := k.c.GetTemplate(k.ctx, "base")
	k.call("Client.GetTemplate", err)
	if i := slices.IndexFunc(builtin, func(tp client.Template) bool { return tp.Name == "base" }); i < 0 || !reflect.DeepEqual(builtin[i], *base) {
		t.Errorf("get base: %+v, listed %+v", *base, builtin)
	}
	res := &client.TemplateResources{CPU: "500m", Memory: "256Mi", CPULimit: "1", MemoryLimit: "512Mi", Pids: 64, Disk: "64Mi"}
	full := client.Template{Name: "full", Image: "base", Description: "every field", Port: 3000,
		EnvVars: map[string]string{"A": "1"}, Shell: "/bin/sh", NoStartupProbe: true, Metadata: map[string]string{"m": "v"},
		Resources: res, Pool: &client.TemplatePool{Size: 0, ProbePort: 3000, WarmupCmd: "true", Resources: res},
		Profile: "restrictive", Network: "none", User: servertest.User, StartCmd: "sleep 1", Prewarm: []string{"python"},
		Source: "ignored"}
	// A template has one start command: the other two forms.
	args := client.Template{Name: "args", Image: "base", Description: "args", Args: []string{"sleep", "1"}}
	startup := client.Template{Name: "startup", Image: "base", Description: "startup",
		Pool: &client.TemplatePool{StartupCmd: "sleep, 1"}}
	after, err := k.c.PutTemplates(k.ctx, append(builtin, full, args, startup))
	k.call("Client.PutTemplates", err)
	for _, want := range []client.Template{full, args, startup} {
		want.Source = "file"
		got, err := k.c.GetTemplate(k.ctx, want.Name)
		k.call("Client.GetTemplate", err)
		if !reflect.DeepEqual(*got, want) || !slices.ContainsFunc(after, func(tp client.Template) bool { return reflect.DeepEqual(tp, want) }) {
			t.Errorf("template round trip:\n got %s\nwant %s", js(*got), js(want))
		}
	}
}

func (k *contract) events(name string) {
	t := k.t
	logs, err := k.c.Logs(k.ctx, name)
	k.call("Client.Logs", err)
	if len(logs) == 0 || logs[0].Event != "sandbox_created" || logs[0].Sandbox != name || logs[0].ID == 0 ||
		logs[0].Time.IsZero() || logs[0].Actor == "" || logs[0].RequestID == "" || logs[0].Details["backend"] != "fake" {
		t.Fatalf("logs: %+v", logs)
	}
	evs, err := k.c.Events(k.ctx, url.Values{"sandbox": {name}, "type": {"sandbox_created"}, "limit": {"5"}})
	k.call("Client.Events", err)
	if len(evs) != 1 || !reflect.DeepEqual(evs[0], logs[0]) {
		t.Errorf("events: %+v, want %+v", evs, logs[0])
	}
}

// lifecycle stops, starts, extends and deletes name.
func (k *contract) lifecycle(name string) {
	t := k.t
	sb, err := k.c.StopSandbox(k.ctx, name)
	k.call("Client.StopSandbox", err)
	if sb.Status != "stopped" {
		t.Errorf("stop: %+v", *sb)
	}
	sb, err = k.c.StartSandbox(k.ctx, name)
	k.call("Client.StartSandbox", err)
	if sb.Status != "running" {
		t.Errorf("start: %+v", *sb)
	}
	before := time.Now()
	sb, err = k.c.ExtendSandbox(k.ctx, name, time.Hour)
	k.call("Client.ExtendSandbox", err)
	if sb.ExpiresAt == nil || sb.ExpiresAt.Before(before.Add(59*time.Minute)) || sb.OnExpire != "delete" {
		t.Errorf("extend: %+v", *sb)
	}
	k.call("Client.DeleteSandbox", k.c.DeleteSandbox(k.ctx, name))
	if _, err := k.c.GetSandbox(k.ctx, name); !client.IsNotFound(err) {
		t.Errorf("get after delete: %v, want not found", err)
	}
}
