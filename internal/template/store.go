package template

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/fsnotify/fsnotify"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

// Source says where a template comes from.
const (
	SourceBuiltin = "builtin"
	SourceFile    = "file"
)

// Store is the templates in effect: the built-ins, overridden or extended by the templates
// file, which is watched and reloaded when it changes. A file that fails to load keeps the
// previous templates in effect. Safe for concurrent use; Close stops the watcher.
type Store struct {
	path     string
	builtins map[string]Template
	log      *slog.Logger

	mu      sync.RWMutex
	file    []Template // what the file holds, in file order
	sum     [32]byte   // hash of the file content in effect (zero: no file)
	loadErr error      // why the file on disk is not in effect (nil when it is)
	subs    []func([]Template)

	watcher *fsnotify.Watcher
	kick    chan struct{} // Save asks the watch loop to notify subscribers
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
}

// Open loads the templates file at path (a missing file means built-ins only; a broken one
// is an error) and starts watching it. The file's directory must exist.
func Open(path string, builtins []Template, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("templates file %s: %w", path, err)
	}
	if err := ValidateList(builtins); err != nil {
		return nil, fmt.Errorf("built-in templates: %w", err)
	}
	s := &Store{path: abs, builtins: map[string]Template{}, log: log.With("templates_file", abs),
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	for _, t := range builtins {
		s.builtins[t.Name] = t.clone()
	}
	ts, sum, err := s.read()
	if err != nil {
		return nil, err
	}
	s.file, s.sum = ts, sum
	if s.watcher, err = fsnotify.NewWatcher(); err != nil {
		return nil, fmt.Errorf("watch templates file: %w", err)
	}
	// Watch the directory: saves replace the file by rename, which a watch on the file
	// itself would lose.
	if err := s.watcher.Add(filepath.Dir(abs)); err != nil {
		s.watcher.Close()
		return nil, fmt.Errorf("watch templates file: directory %s: %w", filepath.Dir(abs), err)
	}
	s.wg.Add(1)
	go s.watch()
	return s, nil
}

// Close stops watching the file. Subscribers are not called afterwards.
func (s *Store) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	close(s.done)
	err := s.watcher.Close()
	s.wg.Wait()
	return err
}

// Path is the templates file.
func (s *Store) Path() string { return s.path }

// List returns every template in effect, sorted by name.
func (s *Store) List() []Template {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.listLocked()
}

func (s *Store) listLocked() []Template {
	byName := make(map[string]Template, len(s.builtins)+len(s.file))
	for n, t := range s.builtins {
		byName[n] = t
	}
	for _, t := range s.file {
		byName[t.Name] = t
	}
	out := make([]Template, 0, len(byName))
	for _, t := range byName {
		out = append(out, t.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Get returns the template called name, or an errdefs.ErrNotFound-class error listing the
// templates there are.
func (s *Store) Get(name string) (Template, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := len(s.file) - 1; i >= 0; i-- {
		if s.file[i].Name == name {
			return s.file[i].clone(), nil
		}
	}
	if t, ok := s.builtins[name]; ok {
		return t.clone(), nil
	}
	names := make([]string, 0, len(s.builtins)+len(s.file))
	for _, t := range s.listLocked() {
		names = append(names, t.Name)
	}
	return Template{}, errdefs.NotFound("template %q not found (available: %s)", name, strings.Join(names, ", "))
}

// Source is where the template called name comes from: SourceFile or SourceBuiltin ("" when
// there is no such template).
func (s *Store) Source(name string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, t := range s.file {
		if t.Name == name {
			return SourceFile
		}
	}
	if _, ok := s.builtins[name]; ok {
		return SourceBuiltin
	}
	return ""
}

// LoadError is why the file on disk is not in effect (nil when it is).
func (s *Store) LoadError() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.loadErr
}

// OnChange registers f to be called, from the watcher's goroutine and one call at a time,
// with every template in effect after each change (a reload or a Save).
func (s *Store) OnChange(f func([]Template)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, f)
}

// Save validates ts as a whole and replaces the templates file with it (atomically: a
// reader sees the old file or the new one). Entries identical to a built-in are not written:
// they would change nothing. The new templates are in effect when Save returns;
// subscribers are notified in the background.
func (s *Store) Save(ctx context.Context, ts []Template) error {
	if err := manager.RequireAdmin(ctx, "change templates"); err != nil {
		return err
	}
	if err := ValidateList(ts); err != nil {
		return err
	}
	keep := make([]Template, 0, len(ts))
	for _, t := range ts {
		if b, ok := s.builtins[t.Name]; !ok || !same(b, t) {
			keep = append(keep, t.clone())
		}
	}
	data, err := json.MarshalIndent(keep, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := writeAtomic(s.path, data); err != nil {
		return fmt.Errorf("save templates: %w", err)
	}
	s.file, s.sum, s.loadErr = keep, sha256.Sum256(data), nil
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

// same reports whether two templates say the same thing.
func same(a, b Template) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// read loads and validates the file. A missing file is an empty list.
func (s *Store) read() ([]Template, [32]byte, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, [32]byte{}, nil
	}
	if err != nil {
		return nil, [32]byte{}, fmt.Errorf("templates file %s: %w", s.path, err)
	}
	ts, err := Parse(data)
	if err != nil {
		return nil, [32]byte{}, fmt.Errorf("templates file %s: %w", s.path, err)
	}
	return ts, sha256.Sum256(data), nil
}

// Parse decodes and validates a templates file: a JSON array of templates, unknown fields
// rejected. Errors are of class errdefs.ErrInvalidArgument.
func Parse(data []byte) ([]Template, error) {
	if err := RefuseZeroPorts(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ts []Template
	if err := dec.Decode(&ts); err != nil {
		return nil, errdefs.InvalidArgument("not a JSON array of templates: %v", err)
	}
	if dec.More() {
		return nil, errdefs.InvalidArgument("not a JSON array of templates: data after the array")
	}
	if err := ValidateList(ts); err != nil {
		return nil, err
	}
	return ts, nil
}

// writeAtomic replaces path with data: a temporary file in the same directory, synced, then
// renamed over path, then the directory synced.
func writeAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(filepath.Dir(path)); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
