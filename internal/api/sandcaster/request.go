package sandcaster

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/paddock/paddock/internal/agent"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
)

// Limits of a query, as upstream's schema sets them.
const (
	maxPromptChars = 1_000_000
	minTimeout     = 5
	maxTimeout     = 3600
	defaultTimeout = 300
	maxFiles       = 20
	maxFilesBytes  = 10_000_000
)

// queryRequest is POST /query's body: upstream's QueryRequestSchema. Unknown fields are
// refused by name.
type queryRequest struct {
	Prompt          string            `json:"prompt"`
	APIKeys         *apiKeys          `json:"apiKeys,omitempty"`
	Model           string            `json:"model,omitempty"`
	MaxTurns        *int              `json:"maxTurns,omitempty"`
	OutputFormat    map[string]any    `json:"outputFormat,omitempty"`
	Timeout         *int              `json:"timeout,omitempty"`
	Files           map[string]string `json:"files,omitempty"`
	AllowedSkills   []string          `json:"allowedSkills,omitempty"`
	AllowedTools    []string          `json:"allowedTools,omitempty"`
	AllowedAgents   []string          `json:"allowedAgents,omitempty"`
	ExtraAgents     map[string]any    `json:"extraAgents,omitempty"`
	ExtraSkills     map[string]string `json:"extraSkills,omitempty"`
	Provider        string            `json:"provider,omitempty"`
	ThinkingLevel   string            `json:"thinkingLevel,omitempty"`
	SandboxProvider string            `json:"sandboxProvider,omitempty"`
	Composite       json.RawMessage   `json:"composite,omitempty"`
	Branching       json.RawMessage   `json:"branching,omitempty"`
}

// apiKeys are per-request provider keys: used for this run only, never stored or logged.
// e2b, vercel and cloudflare are upstream's sandbox keys, accepted and unused (Paddock is
// the sandbox).
type apiKeys struct {
	Anthropic  string `json:"anthropic,omitempty"`
	OpenAI     string `json:"openai,omitempty"`
	OpenRouter string `json:"openrouter,omitempty"`
	E2B        string `json:"e2b,omitempty"`
	Vercel     string `json:"vercel,omitempty"`
	Cloudflare string `json:"cloudflare,omitempty"`
}

// FieldError is a request field that fails validation: 400 with the field named.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap classes the error as an invalid argument.
func (e *FieldError) Unwrap() error { return errdefs.ErrInvalidArgument }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// decodeQuery reads and validates a query body; nothing is made before it passes.
func (a *API) decodeQuery(w http.ResponseWriter, r *http.Request) (*queryRequest, error) {
	var req queryRequest
	if err := httpx.Decode(w, r, &req, a.opts.MaxBodyBytes, true, false); err != nil {
		return nil, decodeError(err)
	}
	a.opts.Config.apply(&req)
	if err := req.validate(); err != nil {
		return nil, err
	}
	return &req, nil
}

// decodeError names the field of a strict decoder's complaint.
func decodeError(err error) error {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok && errors.Is(err, errdefs.ErrInvalidArgument) {
		return fieldErr(strings.Trim(f, `"`), "unknown field")
	}
	if strings.HasPrefix(msg, "field ") && errors.Is(err, errdefs.ErrInvalidArgument) {
		// "field \"timeout\": expected int, got string"
		if name, rest, ok := strings.Cut(strings.TrimPrefix(msg, "field "), ": "); ok {
			return fieldErr(strings.Trim(name, `"`), "%s", rest)
		}
	}
	return err
}

func (q *queryRequest) validate() error {
	switch n := utf8.RuneCountInString(q.Prompt); {
	case strings.TrimSpace(q.Prompt) == "":
		return fieldErr("prompt", "required: a non-empty string")
	case n > maxPromptChars:
		return fieldErr("prompt", "too long: %d characters (max %d)", n, maxPromptChars)
	}
	if q.MaxTurns != nil && *q.MaxTurns < 1 {
		return fieldErr("maxTurns", "must be at least 1")
	}
	if q.Timeout != nil && (*q.Timeout < minTimeout || *q.Timeout > maxTimeout) {
		return fieldErr("timeout", "must be between %d and %d seconds", minTimeout, maxTimeout)
	}
	if err := checkFiles(q.Files); err != nil {
		return err
	}
	if err := agent.CheckTools(q.AllowedTools); err != nil {
		return fieldErr("allowedTools", "%s", strings.TrimPrefix(err.Error(), "allowedTools"))
	}
	if err := checkExtraSkills(q.ExtraSkills); err != nil {
		return err
	}
	switch q.ThinkingLevel {
	case "", "none", "low", "medium", "high":
	default:
		return fieldErr("thinkingLevel", "must be none, low, medium or high")
	}
	for field, set := range map[string]bool{
		"allowedAgents": q.AllowedAgents != nil,
		"extraAgents":   q.ExtraAgents != nil, "composite": q.Composite != nil,
		"branching": q.Branching != nil,
	} {
		if set {
			return fieldErr(field, "not supported by Paddock yet")
		}
	}
	return nil
}

// checkFiles applies upstream's rules: relative paths only, no traversal above the
// workspace, no two paths naming one file, at most 20 files and 10 MB.
func checkFiles(files map[string]string) error {
	if len(files) > maxFiles {
		return fieldErr("files", "too many files: %d (max %d)", len(files), maxFiles)
	}
	seen := map[string]string{}
	total := 0
	for p, content := range files {
		norm, err := normalizeFile(p)
		if err != nil {
			return err
		}
		if prev, ok := seen[norm]; ok {
			return fieldErr("files", "%q and %q both resolve to %q: remove the duplicate", prev, p, norm)
		}
		seen[norm] = p
		total += len(content)
	}
	if total > maxFilesBytes {
		return fieldErr("files", "total file size %d bytes exceeds the 10 MB limit", total)
	}
	return nil
}

// normalizeFile cleans a relative file path, refusing absolute paths and traversal.
func normalizeFile(p string) (string, error) {
	s := strings.ReplaceAll(p, `\`, "/")
	if strings.HasPrefix(s, "/") || (len(s) >= 3 && s[1] == ':' && s[2] == '/') {
		return "", fieldErr("files", "absolute paths are not allowed: %q", p)
	}
	if strings.ContainsRune(s, 0) {
		return "", fieldErr("files", "invalid path %q", p)
	}
	depth := 0
	for _, part := range strings.Split(s, "/") {
		switch part {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return "", fieldErr("files", "path traversal is not allowed: %q", p)
			}
		default:
			depth++
		}
	}
	norm := path.Clean(s)
	if norm == "." || norm == "" {
		return "", fieldErr("files", "empty path %q", p)
	}
	return norm, nil
}
