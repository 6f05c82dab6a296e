package sandcaster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/agent"
	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/template"
)

// LabelRun marks a run's sandbox with the run's ID.
const LabelRun = "paddock.sandcaster.run"

// AuditToolCall is the audit event of every tool call (details: run, tool, is_error, dur_ms).
const AuditToolCall = "agent_tool_call"

// ttlSlack keeps a run's sandbox alive past the run's timeout: the run deletes it itself;
// the TTL only catches a server that died mid-run.
const ttlSlack = time.Minute

// plan is a validated query, ready to run.
type plan struct {
	req      *queryRequest
	model    string
	provider agent.Provider
	tmpl     *template.Template
	timeout  time.Duration
	output   *agent.OutputSchema // nil without outputFormat
	skills   []skill
}

// query validates the request, then streams the run as server-sent events. Everything that
// can be refused is refused before the stream starts.
func (a *API) query(w http.ResponseWriter, r *http.Request) error {
	req, err := a.decodeQuery(w, r)
	if err != nil {
		return err
	}
	p, err := a.plan(req)
	if err != nil {
		return err
	}
	if err := a.checkRunID(r.Context()); err != nil {
		return err
	}
	sse, err := httpx.NewSSE(w)
	if err != nil {
		return err
	}
	a.stream(r.Context(), sse, p)
	return nil
}

func (a *API) plan(req *queryRequest) (*plan, error) {
	model, prov, err := a.catalog.Resolve(req.Model, req.Provider)
	if err != nil {
		var fe *FieldError
		if !errors.As(err, &fe) {
			field, msg, _ := strings.Cut(err.Error(), ": ")
			err = fieldErr(field, "%s", msg)
		}
		return nil, err
	}
	provider, err := a.provider(prov, req.APIKeys)
	if err != nil {
		return nil, err
	}
	p := &plan{req: req, model: model, provider: provider, timeout: defaultTimeout * time.Second}
	if req.Timeout != nil {
		p.timeout = time.Duration(*req.Timeout) * time.Second
	}
	if p.tmpl, err = a.template(req.SandboxProvider); err != nil {
		return nil, err
	}
	if p.skills, err = a.skillsFor(req); err != nil {
		return nil, err
	}
	if req.OutputFormat != nil {
		if p.output, err = agent.CompileSchema(req.OutputFormat); err != nil {
			return nil, fieldErr("outputFormat", "%s", publicText(err))
		}
	}
	return p, nil
}

// template resolves sandboxProvider: one of Paddock's templates, or one of upstream's
// sandbox backends (e2b, docker, vercel, cloudflare), which all mean the base template.
func (a *API) template(name string) (*template.Template, error) {
	switch name {
	case "", "e2b", "docker", "vercel", "cloudflare":
		name = template.Base
	}
	if a.opts.Templates == nil {
		return nil, nil
	}
	t, err := a.opts.Templates.Get(name)
	if errdefs.IsNotFound(err) {
		return nil, fieldErr("sandboxProvider", "no template %q", name)
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// stream runs the plan, writing every event as it happens. The run ends with a result or an
// error event; its sandbox is deleted in every case, also when the client goes away.
func (a *API) stream(ctx context.Context, sse *httpx.SSE, p *plan) {
	start := time.Now()
	ctx, cancelCause := context.WithCancelCause(ctx)
	defer cancelCause(nil)
	lr := a.startRun(ctx, agentrun.Run{ID: httpx.RequestID(ctx), Prompt: p.req.Prompt, Model: p.model,
		StartedAt: start.UTC(), FilesCount: len(p.req.Files), Owner: ownerOf(ctx)}, cancelCause)
	emit := a.emitter(sse, lr)
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	res, err := a.run(ctx, p, lr, emit)
	a.end(ctx, lr, start, res, err, emit)
}

// emitter records each event in the run's log, then sends it.
func (a *API) emitter(sse *httpx.SSE, lr *liveRun) func(agent.Event) error {
	return func(ev agent.Event) error {
		lr.record(ev)
		return sse.Send(ev.Type, ev)
	}
}

// end sends the run's last event (its result or its error) and records how it ended.
func (a *API) end(ctx context.Context, lr *liveRun, start time.Time, res agent.Result, err error, emit func(agent.Event) error) agentrun.Run {
	dur := time.Since(start)
	model := lr.rec.Model
	if err != nil {
		ev := a.errorEvent(ctx, lr.rec.ID, err)
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, errSandboxKilled):
			ev = agent.Event{Type: agent.EventError, Code: agent.CodeSandbox, Content: errSandboxKilled.Error(),
				Hint: "something outside the run killed its sandbox (an E2B lifecycle webhook said so)"}
		case errors.Is(cause, errSessionEnded):
			ev = agent.Event{Type: agent.EventError, Code: agent.CodeAgent, Content: "the session ended (deleted, expired or shut down)"}
		}
		_ = emit(ev)
		return a.finishRun(ctx, lr, res, dur, ev.Content)
	}
	cost, priced := a.catalog.Cost(model, res.InputTokens, res.OutputTokens)
	if !priced {
		_ = emit(agent.Event{Type: agent.EventWarning, Content: fmt.Sprintf("no price for model %s: costUsd is 0", model)})
	}
	secs := dur.Seconds()
	_ = emit(agent.Event{Type: agent.EventResult, Subtype: res.Subtype, Content: res.Content, CostUSD: &cost,
		InputTokens: &res.InputTokens, OutputTokens: &res.OutputTokens, NumTurns: &res.NumTurns, DurationSecs: &secs, Model: model,
		StructuredOutput: res.Structured})
	return a.finishRun(ctx, lr, res, dur, "")
}

// run makes the sandbox, uploads the files, runs the agent and deletes the sandbox.
func (a *API) run(ctx context.Context, p *plan, lr *liveRun, emit func(agent.Event) error) (res agent.Result, err error) {
	sb, err := a.createSandbox(ctx, p, nil)
	if err != nil {
		return res, fmt.Errorf("create sandbox: %w", err)
	}
	defer a.deleteSandbox(ctx, sb.ID)
	a.setSandbox(ctx, lr, sb)
	if err := emit(agent.Event{Type: agent.EventSystem, Subtype: "sandbox_created", Content: "Sandbox created", SandboxID: sb.Name}); err != nil {
		return res, err
	}
	return a.turn(ctx, p, sb, nil, emit)
}

// turn uploads the files into the sandbox and runs the agent from history (nil: a new
// conversation) and the prompt; res.Messages is the conversation after it.
func (a *API) turn(ctx context.Context, p *plan, sb *sandbox.Sandbox, history []agent.Message, emit func(agent.Event) error) (res agent.Result, err error) {
	box := &agent.ManagerSandbox{M: a.m, ID: sb.ID}
	uploads := skillFiles(p.skills)
	maps.Copy(uploads, p.req.Files)
	if err := a.prepare(ctx, box, uploads); err != nil {
		return res, fmt.Errorf("prepare workspace: %w", err)
	}
	if len(p.req.Files) > 0 {
		if err := emit(agent.Event{Type: agent.EventSystem, Subtype: "files_uploaded", Content: fmt.Sprintf("Uploaded %d files", len(p.req.Files))}); err != nil {
			return res, err
		}
	}
	if err := emit(agent.Event{Type: agent.EventSystem, Subtype: "init", Content: "Agent started (model " + p.model + ")"}); err != nil {
		return res, err
	}
	reqID := httpx.RequestID(ctx)
	tb := &agent.Toolbox{Box: box, Dir: a.opts.Workdir, Allowed: p.req.AllowedTools,
		Code: &agent.ManagerInterpreter{M: a.m, ID: sb.ID, Dir: a.opts.Workdir},
		OnCall: func(ctx context.Context, c agent.ToolCall, isErr bool, d time.Duration) {
			// Recorded after the call, even when the run was cancelled meanwhile.
			_ = a.opts.Audit.Record(context.WithoutCancel(ctx), AuditToolCall, sb.Name, map[string]any{
				"run": reqID, "tool": c.Name, "is_error": isErr, "dur_ms": d.Milliseconds()})
		}}
	run := &agent.Run{Provider: p.provider, Model: p.model, System: systemPrompt(a.opts.Workdir, tb.Specs(),
		strings.TrimSpace(a.opts.Config.instructions()+"\n\n"+skillsPrompt(a.opts.Workdir, p.skills)), p.output),
		Tools: tb, Emit: emit, Thinking: p.req.ThinkingLevel, Output: p.output, History: history}
	if p.req.MaxTurns != nil {
		run.MaxTurns = *p.req.MaxTurns
	}
	return run.Do(ctx, p.req.Prompt)
}

// createSandbox makes the run's sandbox, labelled with the run's ID and the extra labels.
func (a *API) createSandbox(ctx context.Context, p *plan, labels map[string]string) (*sandbox.Sandbox, error) {
	spec := sandbox.Spec{TTL: p.timeout + ttlSlack, Labels: map[string]string{LabelRun: httpx.RequestID(ctx)}}
	for k, v := range labels {
		spec.Labels[k] = v
	}
	var opts []manager.CreateOption
	if p.tmpl != nil {
		spec = p.tmpl.Apply(spec)
		opts = p.tmpl.CreateOptions()
	}
	return a.m.Create(ctx, spec, audit.OriginFrom(ctx).Actor, opts...)
}

// deleteSandbox runs after the run, whatever ended it, on a context of its own.
func (a *API) deleteSandbox(ctx context.Context, id string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := a.m.Delete(dctx, id); err != nil && !errdefs.IsNotFound(err) {
		a.log.Error("delete run sandbox", "sandbox", id, "req", httpx.RequestID(ctx), "err", err)
	}
}

// prepare makes the workspace and its directories, then writes the uploaded files.
func (a *API) prepare(ctx context.Context, box *agent.ManagerSandbox, files map[string]string) error {
	dirs := map[string]bool{a.opts.Workdir: true}
	names := make([]string, 0, len(files))
	for name := range files {
		norm, _ := normalizeFile(name) // validated before
		dirs[path.Dir(path.Join(a.opts.Workdir, norm))] = true
		names = append(names, name)
	}
	args := make([]string, 0, len(dirs))
	for d := range dirs {
		args = append(args, shellQuote(d))
	}
	sort.Strings(args)
	res, err := box.Exec(ctx, "mkdir -p -- "+strings.Join(args, " "), "/", time.Minute, 4096)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("mkdir exited %d: %s", res.ExitCode, res.Stderr)
	}
	sort.Strings(names)
	for _, name := range names {
		norm, _ := normalizeFile(name)
		if err := box.WriteFile(ctx, path.Join(a.opts.Workdir, norm), []byte(files[name])); err != nil {
			return fmt.Errorf("upload %s: %w", norm, err)
		}
	}
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func systemPrompt(dir string, tools []agent.ToolSpec, project string, output *agent.OutputSchema) string {
	names := make([]string, 0, len(tools))
	for _, t := range tools {
		names = append(names, t.Name)
	}
	s := "You are an agent working in a Linux sandbox. Your workspace is " + dir +
		"; relative paths resolve there. Tools: " + strings.Join(names, ", ") +
		". Work step by step with the tools, then answer the user's request in your final message."
	if project != "" {
		s += "\n\n" + project
	}
	if output != nil {
		s += "\n\n" + output.Instructions()
	}
	return s
}

// publicText is an invalid-argument error's message without its class.
func publicText(err error) string {
	if msg, ok := errdefs.PublicMessage(err); ok {
		return msg
	}
	return err.Error()
}

func ownerOf(ctx context.Context) string {
	return manager.OwnerOf(ctx, audit.OriginFrom(ctx).Actor)
}
