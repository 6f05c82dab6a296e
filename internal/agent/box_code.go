package agent

import (
	"context"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/manager"
)

// ManagerInterpreter is an Interpreter served by the manager's code contexts: one context
// per language, made in the sandbox on first use (in Dir) and kept for the sandbox's life.
type ManagerInterpreter struct {
	M   *manager.Manager
	ID  string // the sandbox
	Dir string // the contexts' working directory

	mu       sync.Mutex // held while a context is made, so that one is made per language
	contexts map[string]string
}

var _ Interpreter = (*ManagerInterpreter)(nil)

// RunCode implements Interpreter.
func (mi *ManagerInterpreter) RunCode(ctx context.Context, language, code string, timeout time.Duration, limit int) (CodeResult, error) {
	id, err := mi.context(ctx, language)
	if err != nil {
		return CodeResult{}, err
	}
	ectx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var res CodeResult
	out, errOut := &capBuf{limit: limit}, &capBuf{limit: limit}
	err = mi.M.ExecuteCode(ectx, mi.ID, guestproto.ExecuteRequest{Code: code, ContextID: id}, func(ev map[string]any) error {
		str := func(k string) string { s, _ := ev[k].(string); return s }
		switch ev["type"] {
		case "stdout":
			out.write(str("text"))
		case "stderr":
			errOut.write(str("text"))
		case "result":
			if t := str("text"); t != "" {
				res.Results = append(res.Results, capString(t, limit))
			}
		case "error":
			if res.Error == nil {
				res.Error = &CodeError{Name: str("name"), Value: str("value"), Traceback: str("traceback")}
			}
		}
		return nil
	})
	if err != nil && ectx.Err() != nil && ctx.Err() == nil {
		err, res.TimedOut = nil, true
	}
	if err != nil {
		return CodeResult{}, err
	}
	res.Stdout, res.Stderr = out.b.String(), errOut.b.String()
	res.Truncated = out.cut || errOut.cut
	return res, nil
}

func (mi *ManagerInterpreter) context(ctx context.Context, language string) (string, error) {
	mi.mu.Lock()
	defer mi.mu.Unlock()
	if id, ok := mi.contexts[language]; ok {
		return id, nil
	}
	id, err := mi.M.CreateCodeContext(ctx, mi.ID, language, mi.Dir)
	if err != nil {
		return "", err
	}
	if mi.contexts == nil {
		mi.contexts = map[string]string{}
	}
	mi.contexts[language] = id
	return id, nil
}

// capBuf keeps the first limit bytes written to it.
type capBuf struct {
	b     strings.Builder
	limit int
	cut   bool
}

func (c *capBuf) write(s string) {
	if room := c.limit - c.b.Len(); len(s) > room {
		n := max(room, 0)
		for n > 0 && !utf8.RuneStart(s[n]) {
			n-- // never split a character
		}
		s, c.cut = s[:n], true
	}
	c.b.WriteString(s)
}
