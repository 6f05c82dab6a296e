package session

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/kernel"
	"github.com/paddock/paddock/internal/sandbox"
)

// Statuses of an execution.
const (
	StatusSuccess             = "success"
	StatusError               = "error"
	StatusTimeout             = "timeout"
	StatusMaxAttemptsExceeded = "max_attempts_exceeded"
)

// TruncationMarker ends output that went over the limit.
const TruncationMarker = "\n...[truncated by paddock]..."

// Error is an execution's exception.
type Error struct {
	Name      string   `json:"ename"`
	Value     string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}

// Output is one rich output item, in order.
type Output struct {
	Kind string         `json:"kind"` // stream, display_data, execute_result, error
	Name string         `json:"name,omitempty"`
	Text string         `json:"text,omitempty"`
	Data map[string]any `json:"data,omitempty"`
}

// Attempt is one try of execute_with_retry.
type Attempt struct {
	Attempt int    `json:"attempt"`
	Code    string `json:"code"`
	Status  string `json:"status"`
	Output  string `json:"output"`
	Stderr  string `json:"stderr"`
	Error   *Error `json:"error"`
}

// Result is how one execution went.
type Result struct {
	Status         string    `json:"status"`
	Output         string    `json:"output"`
	Stderr         string    `json:"stderr"`
	ReturnValue    *string   `json:"return_value"`
	ExecutionCount int       `json:"execution_count"`
	DurationMS     int64     `json:"duration_ms"`
	Truncated      bool      `json:"truncated"`
	Error          *Error    `json:"error"`
	Outputs        []Output  `json:"outputs"`
	Attempts       []Attempt `json:"attempts,omitempty"`
}

// mimeKeys map code-interpreter result fields to MIME types.
var mimeKeys = map[string]string{"text": "text/plain", "html": "text/html", "markdown": "text/markdown",
	"svg": "image/svg+xml", "png": "image/png", "jpeg": "image/jpeg", "pdf": "application/pdf",
	"latex": "text/latex", "json": "application/json", "javascript": "application/javascript"}

// Execute runs code in a kernel, in language ("" = the kernel's own). timeout > 0
// interrupts the cell when it runs longer; the kernel keeps its state and the result says
// "timeout".
func (r *Registry) Execute(ctx context.Context, idOrName, owner, language, code string, timeout time.Duration) (*Result, error) {
	k, err := r.find(ctx, idOrName, owner)
	if err != nil {
		return nil, err
	}
	return r.execute(ctx, k, language, code, timeout, nil)
}

// ExecuteStream is Execute that also calls onOutput with each output item (stream text,
// display data, the main result, the error) as the kernel produces it, in order, before the
// result is returned. An error from onOutput ends the execution (the kernel is interrupted
// and keeps its state) and is returned.
func (r *Registry) ExecuteStream(ctx context.Context, idOrName, owner, language, code string, timeout time.Duration, onOutput func(Output) error) (*Result, error) {
	k, err := r.find(ctx, idOrName, owner)
	if err != nil {
		return nil, err
	}
	return r.execute(ctx, k, language, code, timeout, onOutput)
}

// checkLanguage normalises a cell's language: "" is the kernel's own, an unknown one is
// refused.
func checkLanguage(k *Kernel, language string) (string, error) {
	if language == "" {
		return k.Language, nil
	}
	lang := kernel.Normalize(language)
	if _, ok := kernel.Lookup(lang); !ok {
		return "", errdefs.InvalidArgument("unsupported language %q: use one of %s", language, strings.Join(kernel.Languages(), ", "))
	}
	return lang, nil
}

// contextFor is the kernel's context for lang, started in its sandbox on first use. Callers
// hold k.mu.
func (r *Registry) contextFor(ctx context.Context, sb *sandbox.Sandbox, k *Kernel, lang string) (string, error) {
	if lang == k.Language {
		return k.contextID, nil
	}
	k.omu.Lock()
	id, ok := k.others[lang]
	k.omu.Unlock()
	if ok {
		return id, nil
	}
	id, err := r.m.CreateCodeContext(ctx, sb.ID, lang, "")
	if err != nil {
		return "", err
	}
	k.omu.Lock()
	if k.others == nil {
		k.others = map[string]string{}
	}
	k.others[lang] = id
	k.omu.Unlock()
	return id, nil
}

func (r *Registry) execute(ctx context.Context, k *Kernel, language, code string, timeout time.Duration, onOutput func(Output) error) (*Result, error) {
	lang, err := checkLanguage(k, language)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.TrimSpace(code) == "":
		return nil, errdefs.InvalidArgument("code is empty")
	case len(code) > r.opts.MaxCodeSize:
		return nil, errdefs.New(errdefs.ErrTooLarge, "code of %d bytes exceeds the %d-byte limit", len(code), r.opts.MaxCodeSize)
	case timeout < 0:
		return nil, errdefs.InvalidArgument("timeout must not be negative")
	}
	sb, err := r.sandboxOf(ctx, k)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	contextID, err := r.contextFor(ctx, sb, k, lang)
	if err != nil {
		return nil, err
	}
	k.Status = "busy"
	defer func() { k.Status, k.LastUsedAt = "idle", time.Now().UTC() }()
	ectx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		ectx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	res := &Result{Status: StatusSuccess, Outputs: []Output{}}
	var out, stderr capped
	out.limit, stderr.limit = r.opts.OutputLimit, r.opts.OutputLimit
	began := time.Now()
	err = r.m.ExecuteCode(ectx, sb.ID, guestproto.ExecuteRequest{Code: code, ContextID: contextID, KeepQuotes: true}, func(ev map[string]any) error {
		n := len(res.Outputs)
		collect(res, &out, &stderr, ev)
		if onOutput == nil {
			return nil
		}
		for _, o := range res.Outputs[n:] {
			if err := onOutput(o); err != nil {
				return err
			}
		}
		return nil
	})
	res.DurationMS = time.Since(began).Milliseconds()
	switch {
	case err != nil && ectx.Err() != nil && ctx.Err() == nil:
		res.Status = StatusTimeout
		res.Error = &Error{Name: "TimeoutError", Value: fmt.Sprintf("execution exceeded %s and was interrupted; the kernel keeps its state", timeout)}
	case err != nil:
		return nil, err
	case res.Error != nil:
		res.Status = StatusError
	}
	res.Output, res.Stderr = out.String(), stderr.String()
	res.Truncated = out.truncated || stderr.truncated
	// One count per kernel, whatever the cell's language, as IPython counts its cells.
	k.ExecutionCount++
	res.ExecutionCount = k.ExecutionCount
	return res, nil
}

// collect folds one code-interpreter event into the result.
func collect(res *Result, out, stderr *capped, ev map[string]any) {
	str := func(k string) string { s, _ := ev[k].(string); return s }
	switch ev["type"] {
	case "stdout", "stderr":
		// Stream items count against the same limit as output and stderr.
		name, c := "stdout", out
		if ev["type"] == "stderr" {
			name, c = "stderr", stderr
		}
		if kept, ok := c.write(str("text")); ok {
			res.Outputs = append(res.Outputs, Output{Kind: "stream", Name: name, Text: kept})
		}
	case "result":
		data := map[string]any{}
		for k, mime := range mimeKeys {
			if v, ok := ev[k]; ok {
				data[mime] = v
			}
		}
		kind := "display_data"
		if ev["is_main_result"] == true {
			kind = "execute_result"
			if t, ok := ev["text"].(string); ok {
				res.ReturnValue = &t
			}
		}
		res.Outputs = append(res.Outputs, Output{Kind: kind, Text: str("text"), Data: data})
	case "error":
		if res.Error == nil {
			res.Error = &Error{Name: str("name"), Value: str("value"), Traceback: strings.Split(strings.TrimRight(str("traceback"), "\n"), "\n")}
			res.Outputs = append(res.Outputs, Output{Kind: "error", Name: str("name"), Text: str("value")})
		}
	case "number_of_executions":
		if n, ok := ev["execution_count"].(float64); ok {
			res.ExecutionCount = int(n)
		}
	}
}

// capped keeps at most limit bytes of text and remembers whether more came.
type capped struct {
	b         strings.Builder
	limit     int
	truncated bool
}

// write appends s, cut at the limit (on a character boundary) and ended by TruncationMarker
// when it does not fit, and returns what it kept; ok is false once the limit was reached
// before, when nothing more is kept.
func (c *capped) write(s string) (kept string, ok bool) {
	if c.truncated {
		return "", false
	}
	if room := c.limit - c.b.Len(); len(s) > room {
		n := max(room, 0)
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		kept = s[:n] + TruncationMarker
		c.b.WriteString(kept)
		c.truncated = true
		return kept, true
	}
	c.b.WriteString(s)
	return s, true
}

func (c *capped) String() string { return c.b.String() }

// RetryRequest is execute_with_retry.
type RetryRequest struct {
	Code             string
	OnErrorCode      string   // run after each failure (when ReplacementCodes has no entry)
	ReplacementCodes []string // attempt n+1 runs ReplacementCodes[n-1]
	MaxAttempts      int      // default 5
	Timeout          time.Duration
	Language         string // "" = the kernel's own
}

// ExecuteWithRetry runs code, and after each failure the next replacement (or OnErrorCode,
// or the same code), until one succeeds or MaxAttempts is reached.
func (r *Registry) ExecuteWithRetry(ctx context.Context, idOrName, owner string, req RetryRequest) (*Result, error) {
	k, err := r.find(ctx, idOrName, owner)
	if err != nil {
		return nil, err
	}
	if req.MaxAttempts == 0 {
		req.MaxAttempts = 5
	}
	if req.MaxAttempts < 1 || req.MaxAttempts > 100 {
		return nil, errdefs.InvalidArgument("max_attempts %d: use 1 to 100", req.MaxAttempts)
	}
	var attempts []Attempt
	code := req.Code
	var res *Result
	for n := 1; n <= req.MaxAttempts; n++ {
		if res, err = r.execute(ctx, k, req.Language, code, req.Timeout, nil); err != nil {
			return nil, err
		}
		k.AttemptCount++
		attempts = append(attempts, Attempt{Attempt: n, Code: code, Status: res.Status, Output: res.Output, Stderr: res.Stderr, Error: res.Error})
		if res.Status == StatusSuccess {
			break
		}
		switch {
		case n-1 < len(req.ReplacementCodes):
			code = req.ReplacementCodes[n-1]
		case req.OnErrorCode != "":
			code = req.OnErrorCode
		}
	}
	res.Attempts = attempts
	if res.Status != StatusSuccess {
		res.Status = StatusMaxAttemptsExceeded
	}
	return res, nil
}
