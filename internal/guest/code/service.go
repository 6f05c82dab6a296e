package code

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/process"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/kernel"
)

// keepaliveEvery is how often /execute sends a keepalive line when nothing else happened.
const keepaliveEvery = 5 * time.Second

// Service owns the contexts. Safe for concurrent use.
type Service struct {
	settings  *guestenv.Settings
	reaper    process.Reaper
	log       *slog.Logger
	keepalive time.Duration // keepaliveEvery; tests change it

	mu       sync.Mutex
	contexts map[string]*kctx // by ID: the contexts POST /contexts made
	defaults map[string]*slot // by language: each language's default context
	spares   map[string]*kctx // by language: started ahead of need (Prewarm)
	prewarm  map[string]bool  // languages to keep a spare of
}

// slot is a language's default context, which executions naming a language (and not a
// context) share. It has its ID from the moment it is listed, as E2B's code interpreter
// lists the python and javascript contexts it starts with; its interpreter starts on first
// use, and again after it died.
type slot struct {
	id string
	k  *kctx // nil until first use
}

// listedDefaults are the default contexts GET /contexts always shows (when their
// interpreter is installed), as E2B's code interpreter does.
var listedDefaults = []string{"python", "javascript"}

// contextView is a context as /contexts shows it.
type contextView struct {
	ID       string `json:"id"`
	Language string `json:"language"`
	Cwd      string `json:"cwd"`
}

// New returns the code-interpreter service.
func New(settings *guestenv.Settings, reaper process.Reaper, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{settings: settings, reaper: reaper, log: log, keepalive: keepaliveEvery, contexts: map[string]*kctx{}, defaults: map[string]*slot{},
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
	for _, d := range s.defaults {
		if d.k != nil {
			d.k.kill()
		}
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

// context finds a context by ID (one POST /contexts made, or a default one's), or the
// language's default context, starting its interpreter on first use.
func (s *Service) context(id, lang string) (*kctx, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != "" {
		if k, ok := s.contexts[id]; ok {
			return k, nil
		}
		if lang = s.defaultLanguage(id); lang == "" {
			return nil, errdefs.NotFound("context %s not found", id)
		}
	}
	lang = kernel.Normalize(lang)
	if _, ok := kernel.Lookup(lang); !ok {
		return nil, errdefs.InvalidArgument("unsupported language %q: use one of %s", lang, strings.Join(kernel.Languages(), ", "))
	}
	if d := s.slot(lang); d.k != nil && d.k.alive() {
		return d.k, nil
	}
	s.mu.Unlock()
	k := s.takeSpare(lang, s.settings.DefaultWorkdir())
	s.mu.Lock()
	d := s.slot(lang)              // deleted and made again meanwhile, perhaps
	if d.k != nil && d.k.alive() { // another request started it meanwhile
		if k != nil {
			k.kill()
		}
		return d.k, nil
	}
	if k == nil {
		var err error
		if k, err = start(s.reaper, s.settings, lang, s.settings.DefaultWorkdir()); err != nil {
			return nil, err
		}
	}
	k.ID, d.k = d.id, k
	return k, nil
}

// slot returns lang's default context, giving it an ID when it has none. Callers hold mu.
func (s *Service) slot(lang string) *slot {
	d, ok := s.defaults[lang]
	if !ok {
		d = &slot{id: randomHex(8)}
		s.defaults[lang] = d
	}
	return d
}

// defaultLanguage is the language whose default context has id ("" when none). Callers
// hold mu.
func (s *Service) defaultLanguage(id string) string {
	for lang, d := range s.defaults {
		if d.id == id {
			return lang
		}
	}
	return ""
}

// restart replaces a context's interpreter, keeping its ID, language and cwd.
func (s *Service) restart(id string) error {
	s.mu.Lock()
	old, ok := s.contexts[id]
	lang := s.defaultLanguage(id)
	var d *slot
	if lang != "" {
		d = s.defaults[lang]
	}
	s.mu.Unlock()
	switch {
	case ok:
		_, err := s.replace(old)
		return err
	case d == nil:
		return errdefs.NotFound("context %s not found", id)
	}
	// A default context: its next use starts a fresh interpreter under the same ID.
	s.mu.Lock()
	k := d.k
	d.k = nil
	s.mu.Unlock()
	if k != nil {
		k.kill()
	}
	return nil
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
	var req guestproto.ExecuteRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20)).Decode(&req); err != nil {
		http.Error(w, "invalid request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if req.ContextID != "" && req.Language != "" {
		http.Error(w, "give either context_id or language, not both", http.StatusBadRequest)
		return
	}
	k, err := s.context(req.ContextID, req.Language)
	if err == nil {
		err = k.checkCell(req.Code, req.EnvVars)
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	// The headers go out now, not with the first output: a cell that prints nothing for a
	// while has still started, and a client (or the proxy in front) whose stream is cut
	// sees a dropped stream, not a missing answer.
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	var wmu sync.Mutex
	emit := func(ev Event) {
		wmu.Lock()
		defer wmu.Unlock()
		if !req.KeepQuotes {
			ev = unquoteText(ev)
		}
		b, _ := json.Marshal(ev)
		_, _ = w.Write(append(b, '\n'))
		if flusher != nil {
			flusher.Flush()
		}
	}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(s.keepalive)
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
// fresh state); a default one starts afresh, under the same ID, on its next use.
func (s *Service) forgetDead(k *kctx) {
	s.mu.Lock()
	for _, d := range s.defaults {
		if d.k == k {
			d.k = nil
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
	writeJSON(w, contextView{ID: k.ID, Language: k.Language, Cwd: k.Cwd})
}

// handleList lists the default contexts (python and javascript always, others once used)
// and then the contexts POST /contexts made.
func (s *Service) handleList(w http.ResponseWriter, _ *http.Request) {
	cwd, env := s.defaultCwd(), s.environ()
	s.mu.Lock()
	for _, l := range listedDefaults {
		if installed(l, env) {
			s.slot(l)
		}
	}
	langs := make([]string, 0, len(s.defaults))
	for l := range s.defaults {
		langs = append(langs, l)
	}
	sort.Slice(langs, func(i, j int) bool {
		return defaultRank(langs[i]) < defaultRank(langs[j]) || defaultRank(langs[i]) == defaultRank(langs[j]) && langs[i] < langs[j]
	})
	out := make([]contextView, 0, len(s.defaults)+len(s.contexts))
	for _, l := range langs {
		d := s.defaults[l]
		v := contextView{ID: d.id, Language: l, Cwd: cwd}
		if d.k != nil {
			v.Cwd = d.k.Cwd
		}
		out = append(out, v)
	}
	named := make([]contextView, 0, len(s.contexts))
	for _, k := range s.contexts {
		named = append(named, contextView{ID: k.ID, Language: k.Language, Cwd: k.Cwd})
	}
	s.mu.Unlock()
	sort.Slice(named, func(i, j int) bool { return named[i].ID < named[j].ID })
	writeJSON(w, append(out, named...))
}

// defaultRank orders the default contexts: python, javascript, then the others.
func defaultRank(lang string) int {
	for i, l := range listedDefaults {
		if l == lang {
			return i
		}
	}
	return len(listedDefaults)
}

// defaultCwd is where default contexts start: the sandbox's default workdir, else the
// default user's home.
func (s *Service) defaultCwd() string {
	if wd := s.settings.DefaultWorkdir(); wd != "" {
		return wd
	}
	if u, err := s.settings.Caller(nil); err == nil {
		return u.Home
	}
	return "/"
}

// environ is the default user's environment (nil when that user is unknown).
func (s *Service) environ() []string {
	u, err := s.settings.Caller(nil)
	if err != nil {
		return nil
	}
	return process.Environ(u, s.settings.EnvVars(), nil)
}

// installed reports whether lang's interpreter is on env's PATH.
func installed(lang string, env []string) bool {
	h, ok := kernel.Lookup(lang)
	if !ok {
		return false
	}
	_, err := process.LookPath(h.Interpreter, "/", env)
	return err == nil
}

// handleDelete ends a context. A default context's ID goes with it: the language's next
// default context has a new one.
func (s *Service) handleDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	k, ok := s.contexts[id]
	delete(s.contexts, id)
	if lang := s.defaultLanguage(id); lang != "" {
		ok, k = true, s.defaults[lang].k
		delete(s.defaults, lang)
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "context "+id+" not found", http.StatusNotFound)
		return
	}
	if k != nil {
		k.kill()
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Service) handleRestart(w http.ResponseWriter, r *http.Request) {
	if err := s.restart(r.PathValue("id")); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// unquoteText returns ev with one pair of quotes stripped from a result's text, as E2B's code
// interpreter does with text/plain: a string's result is the string itself, not its repr.
// ev itself is left alone (the harness reader still reads it).
func unquoteText(ev Event) Event {
	t, ok := ev["text"].(string)
	if ev["type"] != "result" || !ok || len(t) < 2 {
		return ev
	}
	if q := t[0]; (q != '\'' && q != '"') || t[len(t)-1] != q {
		return ev
	}
	out := maps.Clone(ev)
	out["text"] = t[1 : len(t)-1]
	return out
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
	case errors.Is(err, errdefs.ErrPermissionDenied):
		code = http.StatusForbidden
	case errors.Is(err, errdefs.ErrInvalidArgument):
		code = http.StatusBadRequest
	case errors.Is(err, errdefs.ErrFailedPrecondition):
		code = http.StatusServiceUnavailable
	}
	http.Error(w, strings.TrimSpace(err.Error()), code)
}
