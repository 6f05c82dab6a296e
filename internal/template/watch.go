package template

import (
	"path/filepath"
	"time"
)

// settle is how long the file must stay quiet before it is reloaded, so that a save made of
// several writes is read once, whole.
const settle = 100 * time.Millisecond

// watch reloads the file when it changes and notifies subscribers, until Close.
func (s *Store) watch() {
	defer s.wg.Done()
	base := filepath.Base(s.path)
	var quiet <-chan time.Time
	for {
		select {
		case <-s.done:
			return
		case ev, ok := <-s.watcher.Events:
			if !ok {
				return
			}
			// The directory is the data dir: ignore the database and sandboxes next to us.
			if filepath.Base(ev.Name) == base {
				quiet = time.After(settle)
			}
		case err, ok := <-s.watcher.Errors:
			if !ok {
				return
			}
			s.log.Warn("watch templates file", "err", err)
			quiet = time.After(settle) // events may have been lost: look again
		case <-quiet:
			quiet = nil
			if s.reload() {
				s.notify()
			}
		case <-s.kick:
			s.notify()
		}
	}
}

// reload reads the file and puts it in effect when it changed and is valid. A broken file
// keeps the previous templates; its error is logged once (until the file changes to
// another error or is fixed).
func (s *Store) reload() bool {
	ts, sum, err := s.read()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.loadErr == nil || s.loadErr.Error() != err.Error() {
			s.log.Error("templates file not reloaded; previous templates stay in effect", "err", err)
		}
		s.loadErr = err
		return false
	}
	if s.loadErr != nil {
		s.log.Info("templates file fixed")
	}
	s.loadErr = nil
	if sum == s.sum {
		return false
	}
	s.file, s.sum = ts, sum
	s.log.Info("templates file reloaded", "templates", len(ts))
	return true
}

// notify calls the subscribers with the templates in effect.
func (s *Store) notify() {
	s.mu.RLock()
	subs := append([]func([]Template){}, s.subs...)
	ts := s.listLocked()
	s.mu.RUnlock()
	for _, f := range subs {
		f(ts)
	}
}
