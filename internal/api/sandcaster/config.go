package sandcaster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paddock/paddock/internal/agent"
)

// ConfigFile is the name of the project config looked for in the server's working
// directory when no path is given.
const ConfigFile = "sandcaster.json"

// Config is sandcaster.json: defaults for every query (a request's own fields win), and the
// model alias and price tables layered over the built-in ones. The zero Config changes
// nothing.
type Config struct {
	// SystemPrompt and SystemPromptAppend follow Paddock's own sandbox instructions in the
	// system prompt of every run.
	SystemPrompt       string         `json:"systemPrompt,omitempty"`
	SystemPromptAppend string         `json:"systemPromptAppend,omitempty"`
	Model              string         `json:"model,omitempty"`
	MaxTurns           *int           `json:"maxTurns,omitempty"`
	Timeout            *int           `json:"timeout,omitempty"`
	OutputFormat       map[string]any `json:"outputFormat,omitempty"`
	AllowedTools       []string       `json:"allowedTools,omitempty"`
	Provider           string         `json:"provider,omitempty"`
	ThinkingLevel      string         `json:"thinkingLevel,omitempty"`
	SandboxProvider    string         `json:"sandboxProvider,omitempty"`
	// Models adds or replaces aliases (alias → model ID); Prices adds or replaces prices
	// (model ID → USD per million input and output tokens).
	Models map[string]string      `json:"models,omitempty"`
	Prices map[string]agent.Price `json:"prices,omitempty"`
	// SkillsDir holds skills, one subdirectory with a SKILL.md each (relative to the config
	// file's directory); they are uploaded into every run's workspace.
	SkillsDir string `json:"skillsDir,omitempty"`

	skills []skill // SkillsDir's, read by LoadConfig
}

// unsupportedConfig are upstream's keys Paddock does not do (yet); each is refused by name.
var unsupportedConfig = []string{"templateSkills", "agents", "composite", "branching", "chat"}

// LoadConfig reads and checks a sandcaster.json. Unknown keys, upstream keys Paddock does
// not support and values a request would be refused for are errors that name the key.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sandcaster config: %w", err)
	}
	c, err := ParseConfig(b)
	if err == nil && c.SkillsDir != "" {
		dir := c.SkillsDir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(path), dir)
		}
		c.skills, err = loadSkills(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("sandcaster config %s: %w", path, err)
	}
	return c, nil
}

// FindConfig is the config a server uses: path when given (it must exist), else
// sandcaster.json in the working directory if there is one, else none (nil).
func FindConfig(path string) (*Config, error) {
	if path != "" {
		return LoadConfig(path)
	}
	if _, err := os.Stat(ConfigFile); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return LoadConfig(ConfigFile)
}

// ParseConfig decodes and checks a config.
func ParseConfig(b []byte) (*Config, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("want a JSON object: %w", err)
	}
	for _, k := range unsupportedConfig {
		if _, ok := keys[k]; ok {
			return nil, fmt.Errorf("%s: not supported by Paddock yet; remove it", k)
		}
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, configDecodeError(err)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// configDecodeError names the key of a decoder's complaint.
func configDecodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "systemPrompt" && te.Value == "object" {
			return errors.New("systemPrompt: give a string (upstream's {preset, append} form is Claude Code's and not supported)")
		}
		return fmt.Errorf("%s: want %s, got %s", te.Field, te.Type, te.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown key %s", name)
	}
	return err
}

// check applies a request's rules to the defaults, so that a bad default fails at
// start-up and not in every query.
func (c *Config) check() error {
	cat := c.Catalog(agent.DefaultCatalog())
	for alias, id := range c.Models {
		if strings.TrimSpace(alias) == "" || strings.TrimSpace(id) == "" {
			return fmt.Errorf("models: alias %q → %q: both must be non-empty", alias, id)
		}
	}
	for id, p := range c.Prices {
		if p.Input < 0 || p.Output < 0 {
			return fmt.Errorf("prices: %s: prices must not be negative", id)
		}
	}
	q := &queryRequest{Prompt: "check", Model: c.Model, MaxTurns: c.MaxTurns, Timeout: c.Timeout, AllowedTools: c.AllowedTools,
		Provider: c.Provider, ThinkingLevel: c.ThinkingLevel}
	if err := q.validate(); err != nil {
		return err
	}
	if _, _, err := cat.Resolve(c.Model, c.Provider); err != nil {
		return err
	}
	if c.OutputFormat != nil {
		if _, err := agent.CompileSchema(c.OutputFormat); err != nil {
			return fmt.Errorf("outputFormat: %s", publicText(err))
		}
	}
	return nil
}

// Catalog is base with the config's aliases and prices over it.
func (c *Config) Catalog(base agent.Catalog) agent.Catalog {
	if c == nil {
		return base
	}
	return base.With(c.Models, c.Prices)
}

// apply fills the request's unset fields from the config.
func (c *Config) apply(q *queryRequest) {
	if c == nil {
		return
	}
	if q.Model == "" {
		q.Model = c.Model
	}
	if q.MaxTurns == nil {
		q.MaxTurns = c.MaxTurns
	}
	if q.Timeout == nil {
		q.Timeout = c.Timeout
	}
	if q.OutputFormat == nil {
		q.OutputFormat = c.OutputFormat
	}
	if q.AllowedTools == nil {
		q.AllowedTools = c.AllowedTools
	}
	if q.Provider == "" {
		q.Provider = c.Provider
	}
	if q.ThinkingLevel == "" {
		q.ThinkingLevel = c.ThinkingLevel
	}
	if q.SandboxProvider == "" {
		q.SandboxProvider = c.SandboxProvider
	}
}

// skillList is the skills of SkillsDir.
func (c *Config) skillList() []skill {
	if c == nil {
		return nil
	}
	return c.skills
}

// instructions is the config's part of the system prompt ("" without one).
func (c *Config) instructions() string {
	if c == nil {
		return ""
	}
	return strings.TrimSpace(strings.TrimSpace(c.SystemPrompt) + "\n\n" + strings.TrimSpace(c.SystemPromptAppend))
}
