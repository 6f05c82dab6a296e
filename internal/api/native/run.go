package native

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// runSpec is the sandbox of a run request: a fresh name, labelled as a run's.
func runSpec(r apitype.RunRequest) sandbox.Spec {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return sandbox.Spec{Name: "run-" + hex.EncodeToString(b), Image: r.Image, Profile: r.Profile,
		VCPUs: r.VCPUs, MemoryMB: r.MemoryMB, Pids: r.Pids, DiskMB: r.DiskMB, Network: sandbox.NetworkMode(r.Network),
		Egress: egress(r.AllowOut, r.DenyOut), Labels: map[string]string{"paddock.run": "true"}}
}

// create makes the run's sandbox: warm when fast (the default), dedicated otherwise.
func (a *API) create(ctx context.Context, req apitype.RunRequest, owner string) (*sandbox.Sandbox, error) {
	spec, opts, err := a.templated(req.Template, runSpec(req))
	if err != nil {
		return nil, err
	}
	if req.Fast == nil || *req.Fast {
		return a.m.Create(ctx, spec, owner, opts...)
	}
	return a.m.CreateDedicated(ctx, spec, owner, opts...)
}

// recordRun adds a run to the history; a failure is logged, never returned.
func (a *API) recordRun(ctx context.Context, sandboxName, owner string, cmd []string, code int, began time.Time, runErr error) {
	r := sandbox.Run{Sandbox: sandboxName, Owner: owner, Command: cmd, ExitCode: code, StartedAt: began, FinishedAt: time.Now().UTC()}
	if runErr != nil {
		r.Error = httpx.PublicMessage(runErr, httpx.RequestID(ctx))
	}
	if err := a.runs.RecordRun(context.WithoutCancel(ctx), r); err != nil {
		a.log.Error("record run", "sandbox", sandboxName, "err", err)
	}
}

// runOnce runs one command in a fresh sandbox and deletes it. outputLimit caps each output
// stream (0 = the manager's default). It returns the sandbox's name and the result.
func (a *API) runOnce(ctx context.Context, req apitype.RunRequest, owner string, outputLimit int) (string, *manager.ExecResult, error) {
	er, err := toExec(req.ExecRequest)
	if err != nil {
		return "", nil, err
	}
	er.OutputLimit = outputLimit
	began := time.Now().UTC()
	sb, err := a.create(ctx, req, owner)
	if err != nil {
		a.recordRun(ctx, "", owner, er.Command, -1, began, err)
		return "", nil, err
	}
	defer a.m.Discard(ctx, sb.ID)
	res, err := a.m.Exec(ctx, sb.ID, er)
	if err != nil {
		a.recordRun(ctx, sb.Name, owner, er.Command, -1, began, err)
		return "", nil, err
	}
	a.recordRun(ctx, sb.Name, owner, er.Command, res.ExitCode, began, nil)
	return sb.Name, res, nil
}

func (a *API) run(w http.ResponseWriter, r *http.Request) error {
	var req apitype.RunRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	name, res, err := a.runOnce(r.Context(), req, owner(r), 0)
	if err != nil {
		return err
	}
	return writeResult(w, name, res)
}

// batchEntry is one command's outcome: a result or a public error message.
type batchEntry struct {
	res *manager.ExecResult
	err *string
}

// minBatchOutput is the least output per stream a batch entry keeps, however many entries.
const minBatchOutput = 64 << 10

func (a *API) batchRun(w http.ResponseWriter, r *http.Request) error {
	var req apitype.BatchRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	switch n := len(req.Commands); {
	case n == 0:
		return errdefs.InvalidArgument("commands is required: a non-empty array of {\"command\": [...]}")
	case n > a.opts.MaxBatch:
		return errdefs.InvalidArgument("commands has %d entries; at most %d per batch", n, a.opts.MaxBatch)
	}
	// The answer holds every entry's output until it is sent: the batch shares one
	// command's output limit.
	limit := max(manager.DefaultOutputLimit/len(req.Commands), minBatchOutput)
	results := make([]batchEntry, len(req.Commands))
	sem := make(chan struct{}, a.opts.BatchWorkers)
	var wg sync.WaitGroup
	for i, c := range req.Commands {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			_, res, err := a.runOnce(r.Context(), c, owner(r), limit)
			if err != nil {
				msg := httpx.PublicMessage(err, httpx.RequestID(r.Context()))
				results[i] = batchEntry{err: &msg}
				return
			}
			results[i] = batchEntry{res: res}
		}()
	}
	wg.Wait()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	_, _ = bw.WriteString(`{"success":true,"data":{"results":[`)
	for i, e := range results {
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		encodeBatchEntry(bw, e)
		results[i] = batchEntry{} // sent: its output can go
	}
	_, _ = bw.WriteString("]}}\n")
	_ = bw.Flush() // the status is out: an error here is the client going away
	return nil
}

// encodeBatchEntry writes one apitype.BatchResult, encoding the outputs as they are written.
func encodeBatchEntry(bw *bufio.Writer, e batchEntry) {
	if e.res == nil {
		b, _ := json.Marshal(apitype.BatchResult{Error: e.err})
		_, _ = bw.Write(b)
		return
	}
	_, _ = bw.WriteString(`{"output":`)
	_ = httpx.WriteJSONString(bw, e.res.Output()...)
	_, _ = bw.WriteString(`,"error":null,"exit_code":` + strconv.Itoa(e.res.ExitCode) + `,"stdout":`)
	_ = httpx.WriteJSONString(bw, e.res.Stdout)
	_, _ = bw.WriteString(`,"stderr":`)
	_ = httpx.WriteJSONString(bw, e.res.Stderr)
	_, _ = bw.WriteString(`,"duration_ms":` + strconv.FormatInt(e.res.Duration.Milliseconds(), 10))
	if e.res.Truncated {
		_, _ = bw.WriteString(`,"truncated":true`)
	}
	_ = bw.WriteByte('}')
}

// runStream is POST /run/stream: the same run, reported as server-sent events while it
// happens (started, progress, output, done or error).
func (a *API) runStream(w http.ResponseWriter, r *http.Request) error {
	var req apitype.RunRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	er, err := toExec(req.ExecRequest)
	if err != nil {
		return err
	}
	spec, opts, err := a.templated(req.Template, runSpec(req))
	if err != nil {
		return err
	}
	sse, err := httpx.NewSSE(w)
	if err != nil {
		return err
	}
	ctx := r.Context()
	fail := func(err error) error {
		_ = sse.Send("error", apitype.StreamError{Message: httpx.PublicMessage(err, httpx.RequestID(ctx))})
		return nil
	}
	began := time.Now().UTC()
	_ = sse.Send("started", apitype.StreamStarted{Sandbox: spec.Name})
	// An image that is not here yet is pulled first, reported as "pulling" events.
	if _, err := a.pullWithEvents(ctx, sse, spec.Image, a.m.ResolveImage); err != nil {
		return fail(err)
	}
	_ = sse.Send("progress", apitype.StreamProgress{Stage: "creating"})
	var sb *sandbox.Sandbox
	if req.Fast == nil || *req.Fast {
		sb, err = a.m.Create(ctx, spec, owner(r), opts...)
	} else {
		sb, err = a.m.CreateDedicated(ctx, spec, owner(r), opts...)
	}
	if err != nil {
		return fail(err)
	}
	defer a.m.Discard(ctx, sb.ID)
	_ = sse.Send("progress", apitype.StreamProgress{Stage: "starting"})
	code := -1
	err = a.streamProcess(ctx, sse, sb.ID, er, &code, fail)
	a.recordRun(ctx, sb.Name, owner(r), er.Command, code, began, nil)
	return err
}

// streamProcess runs er in a sandbox and reports its output and end as events (output,
// done, or error through fail). It is the tail of /run/stream and /exec/stream.
// The exit code is stored in *code when the process ends.
func (a *API) streamProcess(ctx context.Context, sse *httpx.SSE, id string, er manager.ExecRequest, code *int, fail func(error) error) error {
	p, err := a.m.StartProcess(ctx, id, manager.Command{Args: er.Command, Env: er.Env, Cwd: er.Cwd,
		User: er.User, Stdin: er.Stdin != nil, Timeout: er.Timeout})
	var nf *manager.CommandNotFoundError
	if errors.As(err, &nf) {
		_ = sse.Send("output", apitype.StreamOutput{Content: nf.Error() + "\n", Stream: "stderr"})
		*code = nf.Exit().Code
		return sse.Send("done", apitype.StreamDone{ExitCode: *code})
	}
	if err != nil {
		return fail(err)
	}
	defer p.Close()
	if er.Stdin != nil {
		go func() {
			_ = p.SendStdin(ctx, er.Stdin, false)
			_ = p.CloseStdin(ctx)
		}()
	}
	_ = sse.Send("progress", apitype.StreamProgress{Stage: "executing"})
	for {
		out, exit, err := p.Next()
		switch {
		case err != nil:
			return fail(err)
		case exit != nil && exit.TimedOut:
			_ = sse.Send("output", apitype.StreamOutput{Content: "command timed out and was killed\n", Stream: "stderr"})
			*code = exit.Code
			return sse.Send("done", apitype.StreamDone{ExitCode: exit.Code})
		case exit != nil:
			*code = exit.Code
			return sse.Send("done", apitype.StreamDone{ExitCode: exit.Code, Reason: exit.Reason})
		}
		stream := out.Stream
		if stream == "pty" {
			stream = "stdout"
		}
		if err := sse.Send("output", apitype.StreamOutput{Content: string(out.Data), Stream: stream}); err != nil {
			return nil // the client went away
		}
	}
}

// execStream is POST /sandboxes/{name}/exec/stream: exec in an existing sandbox, reported
// as server-sent events like /run/stream (a Paddock extension of the agentkernel API).
func (a *API) execStream(w http.ResponseWriter, r *http.Request) error {
	var req apitype.ExecRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	er, err := toExec(req)
	if err != nil {
		return err
	}
	sb, err := a.m.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if sb.State != sandbox.StateRunning {
		return errdefs.FailedPrecondition("sandbox %q is %s, not running", sb.Name, sb.State)
	}
	sse, err := httpx.NewSSE(w)
	if err != nil {
		return err
	}
	ctx := r.Context()
	_ = sse.Send("started", apitype.StreamStarted{Sandbox: sb.Name})
	var code int
	return a.streamProcess(ctx, sse, sb.ID, er, &code, func(err error) error {
		_ = sse.Send("error", apitype.StreamError{Message: httpx.PublicMessage(err, httpx.RequestID(ctx))})
		return nil
	})
}
