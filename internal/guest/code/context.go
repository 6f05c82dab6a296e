// Package code is the guest's code-interpreter service: long-lived language contexts (one
// interpreter process each, driven by a harness from package kernel) behind E2B's
// code-interpreter protocol (/execute streaming NDJSON, /contexts).
package code

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/process"
	"github.com/paddock/paddock/internal/kernel"
)

// interruptGrace is how long a cell gets to stop after SIGINT before its interpreter is
// killed (and the context's state lost; the service restarts it at once).
const interruptGrace = 3 * time.Second

// Event is one line of /execute's NDJSON stream.
type Event map[string]any

// kctx is one live context: a harness process and the pipes to it.
type kctx struct {
	ID       string `json:"id"`
	Language string `json:"language"`
	Cwd      string `json:"cwd"`

	mu       sync.Mutex // one execution at a time
	pid      int
	group    bool          // interrupt the whole process group (kernel.Harness.InterruptGroup)
	shell    bool          // cells go as shell text (kernel.Harness.ShellCells)
	cmds     *os.File      // harness fd 3
	events   *bufio.Reader // harness fd 4
	out, err chan chunk    // fd 1 and fd 2, split at the sentinel
	exited   chan struct{} // closed when the harness exits
	sentinel string
	version  int // the settings version the interpreter started under
}

// chunk is output, or the end-of-cell sentinel when end is set.
type chunk struct {
	data []byte
	end  bool
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// start launches the harness for a context.
func start(reaper process.Reaper, settings *guestenv.Settings, lang, cwd string) (*kctx, error) {
	h, ok := kernel.Lookup(lang)
	if !ok {
		return nil, errdefs.InvalidArgument("unsupported language %q: use one of %s", lang, strings.Join(kernel.Languages(), ", "))
	}
	u, err := settings.Caller(nil)
	if err != nil {
		return nil, err
	}
	if cwd == "" {
		cwd = u.Home
	}
	if fi, err := os.Stat(cwd); err != nil || !fi.IsDir() {
		return nil, errdefs.InvalidArgument("cwd '%s' does not exist", cwd)
	}
	k := &kctx{ID: randomHex(8), Language: h.Language, Cwd: cwd, group: h.InterruptGroup, shell: h.ShellCells,
		sentinel: "\x1e" + randomHex(12) + "\x1e", version: settings.Version(),
		out: make(chan chunk, 64), err: make(chan chunk, 64), exited: make(chan struct{})}
	env := process.Environ(u, settings.EnvVars(), map[string]string{"PADDOCK_SENTINEL": k.sentinel})
	path, err := process.LookPath(h.Interpreter, cwd, env)
	if err != nil {
		return nil, errdefs.FailedPrecondition("%s contexts need %s, which is not installed in this sandbox", h.Language, h.Interpreter)
	}
	cred, err := process.Credential(u)
	if err != nil {
		return nil, err
	}
	var p pipes
	if err := p.open(); err != nil {
		return nil, err
	}
	attr := &syscall.ProcAttr{Dir: cwd, Env: env, Sys: &syscall.SysProcAttr{Setsid: true, Credential: cred},
		Files: []uintptr{p.devnull.Fd(), p.outW.Fd(), p.errW.Fd(), p.cmdR.Fd(), p.evtW.Fd()}}
	pid, exited, err := reaper.Start(func() (int, error) {
		return syscall.ForkExec(path, append([]string{h.Interpreter}, h.Args...), attr)
	})
	p.closeChildSide()
	if errors.Is(err, syscall.EACCES) {
		// The interpreter was found executable: what the user may not do is enter cwd.
		p.closeParentSide()
		return nil, errdefs.New(errdefs.ErrPermissionDenied, "cwd '%s' is not accessible to user %s, whom code contexts run as", cwd, u.Name)
	}
	if err != nil {
		p.closeParentSide()
		return nil, fmt.Errorf("start %s: %w", h.Interpreter, err)
	}
	process.RaiseOOMScore(pid)
	k.pid, k.cmds, k.events = pid, p.cmdW, bufio.NewReaderSize(p.evtR, 1<<20)
	go split(p.outR, k.sentinel, k.out)
	go split(p.errR, k.sentinel, k.err)
	go func() {
		<-exited
		close(k.exited)
		p.evtR.Close()
		p.cmdW.Close()
	}()
	return k, nil
}

// split forwards r's bytes as chunks, turning each sentinel into an end marker. Bytes that
// could begin a sentinel are held back until it is clear they do not.
func split(r *os.File, sentinel string, out chan<- chunk) {
	defer close(out)
	defer r.Close()
	sep := []byte(sentinel)
	var pending []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		pending = append(pending, buf[:n]...)
		for {
			i := bytes.Index(pending, sep)
			if i < 0 {
				break
			}
			if i > 0 {
				out <- chunk{data: append([]byte(nil), pending[:i]...)}
			}
			out <- chunk{end: true}
			pending = pending[i+len(sep):]
		}
		if keep := sentinelStart(pending, sep); len(pending) > keep {
			out <- chunk{data: append([]byte(nil), pending[:len(pending)-keep]...)}
			pending = pending[len(pending)-keep:]
		}
		if err != nil {
			if len(pending) > 0 {
				out <- chunk{data: pending}
			}
			return
		}
	}
}

// sentinelStart is the length of the longest end of b that begins sep (shorter than sep):
// the bytes split must hold back. Output that cannot begin a sentinel goes out at once, so
// a short print is seen while its cell runs.
func sentinelStart(b, sep []byte) int {
	for n := min(len(b), len(sep)-1); n > 0; n-- {
		if bytes.HasPrefix(sep, b[len(b)-n:]) {
			return n
		}
	}
	return 0
}

// cell is what a JSON harness reads on fd 3.
type cell struct {
	Code string            `json:"code"`
	Env  map[string]string `json:"env,omitempty"`
}

// envName is what a shell accepts as a variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkCell refuses what this context's harness cannot be sent: a shell cannot hold a NUL
// byte nor set a variable whose name is not an identifier.
func (k *kctx) checkCell(code string, env map[string]string) error {
	if !k.shell {
		return nil
	}
	if strings.ContainsRune(code, 0) {
		return errdefs.InvalidArgument("%s code cannot contain NUL bytes", k.Language)
	}
	for n, v := range env {
		if !envName.MatchString(n) || strings.ContainsRune(v, 0) {
			return errdefs.InvalidArgument("env_vars: %q cannot be set in %s: names are letters, digits and _, values have no NUL bytes", n, k.Language)
		}
	}
	return nil
}

// encodeCell is what the harness reads on fd 3 for one cell.
func (k *kctx) encodeCell(code string, env map[string]string) []byte {
	if !k.shell {
		line, _ := json.Marshal(cell{Code: code, Env: env})
		return append(line, '\n')
	}
	var b strings.Builder
	for _, n := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(&b, "__pd_env %s '%s'\n", n, strings.ReplaceAll(env[n], "'", `'\''`))
	}
	b.WriteByte(0)
	b.WriteString(code)
	b.WriteByte(0)
	return []byte(b.String())
}

// errDied means the interpreter went away during the cell; errStale that it was gone before
// the cell was sent (it ran nothing: the cell can go to the context's replacement).
var (
	errDied  = errors.New("the interpreter exited")
	errStale = errors.New("the interpreter had exited before the cell")
)

// execute runs one cell, calling emit for every event, until the cell ends, ctx ends (the
// cell is interrupted) or the interpreter dies.
func (k *kctx) execute(ctx context.Context, code string, env map[string]string, emit func(Event)) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.alive() {
		return errStale
	}
	if _, err := k.cmds.Write(k.encodeCell(code, env)); err != nil {
		return errStale
	}
	evc := make(chan Event, 16)
	go k.readEvents(evc)
	outDone, errDone, done := false, false, false
	var final Event
	interrupted, failed := false, false
	var killAt <-chan time.Time
	for !(done && outDone && errDone) {
		select {
		case c, ok := <-k.out:
			if !ok {
				return errDied
			}
			outDone = outDone || c.end
			if len(c.data) > 0 {
				emit(Event{"type": "stdout", "text": string(c.data), "timestamp": now()})
			}
		case c, ok := <-k.err:
			if !ok {
				return errDied
			}
			errDone = errDone || c.end
			if len(c.data) > 0 {
				emit(Event{"type": "stderr", "text": string(c.data), "timestamp": now()})
			}
		case ev, ok := <-evc:
			if !ok {
				return errDied
			}
			if ev["type"] == "done" {
				done, final = true, ev
				evc = nil // readEvents stops after done; the sentinels may still be on their way
				continue
			}
			failed = failed || ev["type"] == "error"
			emit(ev)
		case <-ctxDone(ctx, interrupted):
			interrupted = true
			k.interrupt()
			killAt = time.After(interruptGrace)
		case <-killAt:
			k.kill()
			// Hold the context until the interpreter is gone, so the next cell, waiting for
			// the lock, sees it dead and goes to the replacement instead.
			select {
			case <-k.exited:
			case <-time.After(interruptGrace):
			}
			return errDied
		}
	}
	if n, ok := final["execution_count"]; ok {
		emit(Event{"type": "number_of_executions", "execution_count": n})
	}
	if code, ok := final["exit_code"].(float64); ok && code != 0 && !failed {
		emit(Event{"type": "error", "name": "ExitCode", "value": fmt.Sprintf("exit status %d", int(code)), "traceback": ""})
	}
	if interrupted {
		return ctx.Err()
	}
	return nil
}

// readEvents reads one cell's events from fd 4 up to and including "done".
func (k *kctx) readEvents(out chan<- Event) {
	defer close(out)
	for {
		line, err := k.events.ReadBytes('\n')
		if len(line) > 0 {
			var ev Event
			if json.Unmarshal(line, &ev) == nil {
				out <- ev
				if ev["type"] == "done" {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// ctxDone is ctx.Done() until the cell has been interrupted once.
func ctxDone(ctx context.Context, interrupted bool) <-chan struct{} {
	if interrupted {
		return nil
	}
	return ctx.Done()
}

// interrupt sends SIGINT to the interpreter, or to its process group.
func (k *kctx) interrupt() {
	pid := k.pid
	if k.group {
		pid = -pid
	}
	_ = syscall.Kill(pid, syscall.SIGINT)
}

func (k *kctx) kill() {
	_ = syscall.Kill(-k.pid, syscall.SIGKILL)
}

func (k *kctx) alive() bool {
	select {
	case <-k.exited:
		return false
	default:
		return true
	}
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }
