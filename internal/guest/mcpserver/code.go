package mcpserver

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/kernel"
	"github.com/paddock/paddock/internal/toolout"
)

// codeArgs are run_code's arguments.
type codeArgs struct {
	Code     string  `json:"code" jsonschema:"the code to run"`
	Language string  `json:"language,omitempty" jsonschema:"the language (default python)"`
	Timeout  float64 `json:"timeout,omitempty" jsonschema:"seconds before the cell is interrupted; the context keeps its state (default 300)"`
}

// codeError is a cell's exception.
type codeError struct {
	Name      string   `json:"ename"`
	Value     string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}

// codeResult is run_code's answer.
type codeResult struct {
	Language       string     `json:"language"`
	Status         string     `json:"status"` // success, error or timeout
	Output         string     `json:"output"`
	Stderr         string     `json:"stderr,omitempty"`
	ReturnValue    *string    `json:"return_value,omitempty"`
	Error          *codeError `json:"error,omitempty"`
	ExecutionCount int        `json:"execution_count"`
	DurationMS     int64      `json:"duration_ms"`
	Truncated      bool       `json:"truncated,omitempty"`
	Note           string     `json:"note,omitempty"`
}

// languages lists run_code's languages.
func languages() string { return strings.Join(kernel.Languages(), ", ") }

// runCode runs a cell in the context kept for its language, made on first use.
func (s *Server) runCode(ctx context.Context, in codeArgs) (any, error) {
	if strings.TrimSpace(in.Code) == "" {
		return nil, errdefs.InvalidArgument("code is required")
	}
	lang := "python"
	if in.Language != "" {
		lang = kernel.Normalize(in.Language)
		if _, ok := kernel.Lookup(lang); !ok {
			return nil, errdefs.InvalidArgument("unsupported language %q: use one of %s", in.Language, languages())
		}
	}
	d, err := timeout(in.Timeout)
	if err != nil {
		return nil, err
	}
	cell := s.cellLock(lang)
	cell.Lock()
	defer cell.Unlock()
	id, err := s.context(ctx, lang)
	if err != nil {
		return nil, err
	}
	ectx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	res := codeResult{Language: lang, Status: "success"}
	out := toolout.Capture{Limit: OutputLimit}
	began := time.Now()
	err = s.c.Execute(ectx, guestproto.ExecuteRequest{Code: in.Code, ContextID: id}, func(ev map[string]any) error {
		collect(&res, &out, ev)
		return nil
	})
	res.DurationMS = time.Since(began).Milliseconds()
	switch {
	case err != nil && ectx.Err() != nil && ctx.Err() == nil:
		res.Status = "timeout"
		res.Error = &codeError{Name: "TimeoutError", Value: fmt.Sprintf("execution exceeded %s and was interrupted; the context keeps its state", d)}
	case err != nil:
		if errdefs.IsNotFound(err) {
			s.forget(lang) // the context is gone (its interpreter died): the next call makes one
		}
		return nil, err
	case res.Error != nil:
		res.Status = "error"
	}
	stdout, stderr, note := out.Result()
	res.Output, res.Stderr = string(stdout), string(stderr)
	res.Truncated, res.Note = note != "", note
	return res, nil
}

// collect folds one code-interpreter event into the result.
func collect(res *codeResult, out *toolout.Capture, ev map[string]any) {
	str := func(k string) string { s, _ := ev[k].(string); return s }
	switch ev["type"] {
	case "stdout":
		out.Add(false, []byte(str("text")))
	case "stderr":
		out.Add(true, []byte(str("text")))
	case "result":
		if ev["is_main_result"] == true {
			if t, ok := ev["text"].(string); ok {
				t = toolout.CutString(t, OutputLimit/4)
				res.ReturnValue = &t
			}
		}
	case "error":
		if res.Error == nil {
			res.Error = &codeError{Name: str("name"), Value: str("value"), Traceback: strings.Split(strings.TrimRight(str("traceback"), "\n"), "\n")}
		}
	case "number_of_executions":
		if n, ok := ev["execution_count"].(float64); ok {
			res.ExecutionCount = int(n)
		}
	}
}

func (s *Server) cellLock(lang string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.cells[lang]
	if !ok {
		m = &sync.Mutex{}
		s.cells[lang] = m
	}
	return m
}

// context is the code context of lang, started on first use. Callers hold lang's cell lock.
func (s *Server) context(ctx context.Context, lang string) (string, error) {
	s.mu.Lock()
	id, ok := s.contexts[lang]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	id, err := s.c.CreateContext(ctx, lang, "")
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.contexts[lang] = id
	s.mu.Unlock()
	return id, nil
}

func (s *Server) forget(lang string) {
	s.mu.Lock()
	delete(s.contexts, lang)
	s.mu.Unlock()
}
