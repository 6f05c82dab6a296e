package server

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/template"
)

// openTemplates opens the configured templates file (default <data-dir>/templates.json)
// over the built-ins, whose pools follow the pool-size and pool-prewarm settings.
func openTemplates(cfg config.Config, log *slog.Logger) (*template.Store, error) {
	path := cfg.TemplatesFile
	if path == "" {
		path = filepath.Join(cfg.DataDir, "templates.json")
	}
	return template.Open(path, template.Builtins(cfg.PoolSize, cfg.PoolPrewarm), log)
}

// followTemplates keeps the warm pools those the templates ask for: now, and after every
// change of the templates file. A pool that cannot be set up (its image cannot be pulled) is
// logged; the others are kept.
func (s *Server) followTemplates(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	set := func(ts []template.Template) {
		if err := s.eng.SetPools(ctx, template.Pools(ts)); err != nil {
			s.log.Error("warm pools of some templates could not be set up", "err", err)
		}
	}
	set(s.templates.List())
	s.templates.OnChange(set)
}
