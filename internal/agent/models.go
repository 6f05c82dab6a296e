package agent

import (
	"maps"
	"slices"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
)

// Provider names a request may give.
const (
	ProviderAnthropic  = "anthropic"
	ProviderOpenAI     = "openai"
	ProviderOpenRouter = "openrouter"
)

// DefaultModel is the model of a request that names none.
const DefaultModel = "sonnet"

// Aliases resolve short model names to model IDs.
var Aliases = map[string]string{
	"sonnet": "claude-sonnet-4-6",
	"opus":   "claude-opus-4-6",
	"haiku":  "claude-haiku-4-5",
}

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
}

// Prices are the list prices the result's costUsd is computed from. A model missing here
// costs 0 (and the result says so with a warning).
var Prices = map[string]Price{
	"claude-sonnet-4-6": {Input: 3, Output: 15},
	"claude-sonnet-4-5": {Input: 3, Output: 15},
	"claude-opus-4-6":   {Input: 5, Output: 25},
	"claude-opus-4-5":   {Input: 5, Output: 25},
	"claude-haiku-4-5":  {Input: 1, Output: 5},
	"gpt-5":             {Input: 1.25, Output: 10},
	"gpt-5-mini":        {Input: 0.25, Output: 2},
	"gpt-4.1":           {Input: 2, Output: 8},
	"gpt-4.1-mini":      {Input: 0.4, Output: 1.6},
	"gpt-4o":            {Input: 2.5, Output: 10},
	"gpt-4o-mini":       {Input: 0.15, Output: 0.6},
}

// Catalog is a model alias table and a price table: the defaults above, with a config
// file's entries layered over them. Read-only once made; safe for concurrent use.
type Catalog struct {
	Aliases map[string]string
	Prices  map[string]Price
}

// DefaultCatalog is Aliases and Prices.
func DefaultCatalog() Catalog { return Catalog{Aliases: Aliases, Prices: Prices} }

// With returns a catalog with aliases and prices added to (or replacing entries of) c's;
// alias names are case-insensitive.
func (c Catalog) With(aliases map[string]string, prices map[string]Price) Catalog {
	out := Catalog{Aliases: maps.Clone(c.Aliases), Prices: maps.Clone(c.Prices)}
	if out.Aliases == nil {
		out.Aliases = map[string]string{}
	}
	if out.Prices == nil {
		out.Prices = map[string]Price{}
	}
	for k, v := range aliases {
		out.Aliases[strings.ToLower(k)] = v
	}
	maps.Copy(out.Prices, prices)
	return out
}

// Cost is the price of the tokens by DefaultCatalog.
func Cost(model string, in, out int64) (float64, bool) { return DefaultCatalog().Cost(model, in, out) }

// ResolveModel resolves by DefaultCatalog (see Catalog.Resolve).
func ResolveModel(model, provider string) (id, prov string, err error) {
	return DefaultCatalog().Resolve(model, provider)
}

// Cost is the price of the tokens, and whether the model has a price at all.
func (c Catalog) Cost(model string, in, out int64) (float64, bool) {
	p, ok := c.Prices[model]
	if !ok {
		return 0, false
	}
	return (float64(in)*p.Input + float64(out)*p.Output) / 1e6, true
}

// Resolve turns a model name (an alias or a full ID, "" = DefaultModel) and an optional
// provider into a model ID and the provider that serves it. A name that is neither an alias
// nor looks like an ID ("sonet") is refused, naming the field.
func (c Catalog) Resolve(model, provider string) (id, prov string, err error) {
	if model == "" {
		model = DefaultModel
	}
	id = model
	if full, ok := c.Aliases[strings.ToLower(model)]; ok {
		id = full
	} else if !strings.ContainsAny(model, "-/.:") {
		names := slices.Sorted(maps.Keys(c.Aliases))
		return "", "", errdefs.InvalidArgument("model: unknown model alias %q (aliases: %s; or give a full model ID)", model, strings.Join(names, ", "))
	}
	switch provider {
	case ProviderAnthropic, ProviderOpenAI, ProviderOpenRouter:
		return id, provider, nil
	case "":
	default:
		return "", "", errdefs.InvalidArgument("provider: %q is not supported (use anthropic, openai or openrouter)", provider)
	}
	switch {
	case strings.HasPrefix(id, "claude"):
		return id, ProviderAnthropic, nil
	case strings.Contains(id, "/"):
		return id, ProviderOpenRouter, nil // OpenRouter names models vendor/model
	}
	return id, ProviderOpenAI, nil
}
