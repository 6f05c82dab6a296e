package code

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/process"
	"github.com/paddock/paddock/internal/kernel"
)

// keepaliveEvery is how often /execute sends a keepalive line when nothing else happened.
const keepaliveEvery = 5 * time.Second

// Service owns the contexts. Safe for concurrent use.
type Service struct {
	settings *guestenv.Settings
	reaper   process.Reaper
	log      *slog.Logger

	mu       sync.Mutex
	contexts map[string]*kctx // by ID
	defaults map[string]*kctx // by language; not listed
	spares   map[string]*kctx // by language: started ahead of need (Prewarm)
	prewarm  map[string]bool  // languages to keep a spare of
}

// New returns the code-interpreter service.
func New(settings *guestenv.Settings, reaper process.Reaper, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{settings: settings, reaper: reaper, log: log, contexts: map[string]*kctx{}, defaults: map[string]*kctx{},
		spares: map[string]*kctx{}, prewarm: map[string]bool{}}
}

// Prewarm keeps one interpreter of each language running ahead of need. A spare is only
// used while the sandbox's environment, user and workdir are those it started with.
func (s *Service) Prewarm(langs []string) {
	for _, l := range langs {
		l = kernel.Normalize(l)
		if _, ok := kernel.Lookup(l); !ok {
			continue
		}
		s.mu.Lock()
		s.prewarm[l] = true
		s.mu.Unlock()
		go s.refill(l)
	}
}

// refill starts a spare for lang unless a current one exists.
func (s *Service) refill(lang string) {
	s.mu.Lock()
	if sp, ok := s.spares[lang]; ok && sp.alive() && sp.version == s.settings.Version() {
		s.mu.Unlock()
		return
	}
	if old, ok := s.spares[lang]; ok {
		old.kill()
		delete(s.spares, lang)
	}
	s.mu.Unlock()
	k, err := start(s.reaper, s.settings, lang, "")
	if err != nil {
		s.log.Warn("prewarm", "language", lang, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.spares[lang]; ok {
		k.kill() // another refill won
		return
	}
	s.spares[lang] = k
}

// takeSpare hands out a current spare for lang in the default cwd, if there is one, and
// starts its replacement.
func (s *Service) takeSpare(lang, cwd string) *kctx {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.spares[lang]
	if !ok || cwd != "" || !sp.alive() || sp.version != s.settings.Version() {
		return nil
	}
	delete(s.spares, lang)
	if s.prewarm[lang] {
		go s.refill(lang)
	}
	return sp
}

// Close kills every interpreter.
func (s *Service) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.contexts {
		k.kill()
	}
	for _, k := range s.defaults {
		k.kill()
	}
	for _, k := range s.spares {
		k.kill()
	}
}

// Create starts a new context.
func (s *Service) Create(lang, cwd string) (*kctx, error) {
	lang = kernel.Normalize(lang)
	k := s.takeSpare(lang, cwd)
	if k == nil {
		var err error
		if k, err = start(s.reaper, s.settings, lang, cwd); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	s.contexts[k.ID] = k
	s.mu.Unlock()
	return k, nil
}

// context finds a context by ID, or the language's default one (started on first use).
func (s *Service) context(id, lang string) (*kctx, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != "" {
		k, ok := s.contexts[id]
		if !ok {
			return nil, errdefs.NotFound("context %s not found", id)
		}
		return k, nil
	}
	lang = kernel.Normalize(lang)
	if k, ok := s.defaults[lang]; ok && k.alive() {
		return k, nil
	}
	s.mu.Unlock()
	k := s.takeSpare(lang, s.settings.DefaultWorkdir())
	s.mu.Lock()
	if d, ok := s.defaults[lang]; ok && d.alive() { // another request started it meanwhile
		if k != nil {
			k.kill()
		}
		return d, nil
	}
	if k == nil {
		var err error
		if k, err = start(s.reaper, s.settings, lang, s.settings.DefaultWorkdir()); err != nil {
			return nil, err
		}
	}
	s.defaults[lang] = k
	return k, nil
}

// restart replaces a context's interpreter, keeping its ID, language and cwd.
func (s *Service) restart(id string) (*kctx, error) {
	s.mu.Lock()
	old, ok := s.contexts[id]
	s.mu.Unlock()
	if !ok {
		return nil, errdefs.NotFound("context %s not found", id)
	}
	return s.replace(old)
}

// replace kills old and puts a fresh interpreter in its place under the same ID. When
// another call replaced old first, that replacement stands.
func (s *Service) replace(old *kctx) (*kctx, error) {
	if old.alive() {
		old.kill()
	}
	k, err := start(s.reaper, s.settings, old.Language, old.Cwd)
	if err != nil {
		return nil, err
	}
	k.ID = old.ID
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.contexts[old.ID]; !ok || cur != old {
		k.kill()
		if !ok {
			return nil, errdefs.NotFound("context %s not found", old.ID)
		}
		return cur, nil
	}
	s.contexts[old.ID] = k
	return k, nil
}

// executeRequest is POST /execute.
type executeRequest struct {
	Code      string            `json:"code"`
	ContextID string            `json:"context_id"`
	Language  string            `json:"language"`
	EnvVars   map[string]string `json:"env_vars"`
}

// Handler serves /execute and /contexts.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /execute", s.handleExecute)
	mux.HandleFunc("POST /contexts", s.handleCreate)
	mux.HandleFunc("GET /contexts", s.handleList)
	mux.HandleFunc("DELETE /contexts/{id}", s.handleDelete)
	mux.HandleFunc("POST /contexts/{id}/restart", s.handleRestart)
	return mux
}

func (s *Service) handleExecute(w http.ResponseWriter, r *http.Request) {
	var req executeRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20)).Decode(&req); err != nil {
		http.Error(w, "invalid request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if req.ContextID != "" && req.Language != "" {
		http.Error(w, "give either context_id or language, not both", http.StatusBadRequest)
		return
	}
	k, err := s.context(req.ContextID, req.Language)
	if err != nil {
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	var wmu sync.Mutex
	emit := func(ev Event) {
		wmu.Lock()
		defer wmu.Unlock()
		b, _ := json.Marshal(ev)
		_, _ = w.Write(append(b, '\n'))
		if flusher != nil {
			flusher.Flush()
		}
	}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(keepaliveEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				emit(Event{"type": "keepalive"})
			}
		}
	}()
	err = k.execute(r.Context(), req.Code, req.EnvVars, emit)
	if errors.Is(err, errStale) {
		// The interpreter died after this request found it (a cell before it was killed):
		// run the cell in its replacement.
		s.forgetDead(k)
		next, cerr := s.context(req.ContextID, req.Language)
		if cerr != nil {
			close(stop)
			emit(Event{"type": "error", "name": "UnexpectedEndOfExecution", "value": "the " + k.Language + " interpreter exited and could not be restarted: " + cerr.Error(), "traceback": ""})
			emit(Event{"type": "end_of_execution"})
			return
		}
		k, err = next, next.execute(r.Context(), req.Code, req.EnvVars, emit)
	}
	close(stop)
	switch {
	case errors.Is(err, errDied), errors.Is(err, errStale):
		emit(Event{"type": "error", "name": "UnexpectedEndOfExecution", "value": "the " + k.Language + " interpreter exited; its state is lost and it restarts on the next execution", "traceback": ""})
		s.forgetDead(k)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Interrupted: the harness already reported a KeyboardInterrupt-style error.
	}
	emit(Event{"type": "end_of_execution"})
}

// forgetDead replaces a dead context at once: a named one is restarted in place (same ID,
// fresh state), a default one is dropped so that its next use starts a fresh one.
func (s *Service) forgetDead(k *kctx) {
	s.mu.Lock()
	for lang, d := range s.defaults {
		if d == k {
			delete(s.defaults, lang)
		}
	}
	cur, named := s.contexts[k.ID]
	s.mu.Unlock()
	if named && cur == k {
		if _, err := s.replace(k); err != nil {
			s.log.Warn("restart dead context", "context", k.ID, "err", err)
		}
	}
}

func (s *Service) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Language string `json:"language"`
		Cwd      string `json:"cwd"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		http.Error(w, "invalid request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	k, err := s.Create(req.Language, req.Cwd)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, k)
}

func (s *Service) handleList(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := make([]*kctx, 0, len(s.contexts))
	for _, k := range s.contexts {
		out = append(out, k)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, out)
}

func (s *Service) handleDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	k, ok := s.contexts[id]
	delete(s.contexts, id)
	s.mu.Unlock()
	if !ok {
		http.Error(w, "context "+id+" not found", http.StatusNotFound)
		return
	}
	k.kill()
	w.WriteHeader(http.StatusOK)
}

func (s *Service) handleRestart(w http.ResponseWriter, r *http.Request) {
	if _, err := s.restart(r.PathValue("id")); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errdefs.IsNotFound(err):
		code = http.StatusNotFound
	case errors.Is(err, errdefs.ErrInvalidArgument):
		code = http.StatusBadRequest
	case errors.Is(err, errdefs.ErrFailedPrecondition):
		code = http.StatusServiceUnavailable
	}
	http.Error(w, strings.TrimSpace(err.Error()), code)
}
