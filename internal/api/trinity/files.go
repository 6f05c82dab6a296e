package trinity

import (
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/fleet"
)

func (a *API) info(w http.ResponseWriter, r *http.Request) error {
	in, err := a.svc.Info(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, in)
}

// files answers the workspace tree (?path= a directory inside it).
func (a *API) files(w http.ResponseWriter, r *http.Request) error {
	t, err := a.svc.Files(r.Context(), r.PathValue("name"), r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, t)
}

// download streams one file of the workspace (?path=, absolute or relative to it).
func (a *API) download(w http.ResponseWriter, r *http.Request) error {
	rc, base, err := a.svc.Download(r.Context(), r.PathValue("name"), r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	defer rc.Close()
	// The first read surfaces a missing file as an error before any header is written.
	buf := make([]byte, 32<<10)
	n, err := io.ReadFull(rc, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": base}))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(buf[:n]); err != nil {
		return nil
	}
	if _, err := io.Copy(w, rc); err != nil {
		a.log.Warn("download cut short", "err", err)
	}
	return nil
}

type logsResponse struct {
	Logs string `json:"logs"`
}

// logs answers the runtime's output, saved across restarts and live (?tail=N, default 100).
func (a *API) logs(w http.ResponseWriter, r *http.Request) error {
	tail := 100
	if q := r.URL.Query().Get("tail"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 10000 {
			return errdefs.InvalidArgument("tail: use a number of lines from 1 to 10000")
		}
		tail = n
	}
	s, err := a.svc.Logs(r.Context(), r.PathValue("name"), tail)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, logsResponse{s})
}

func (a *API) stats(w http.ResponseWriter, r *http.Request) error {
	st, err := a.svc.Stats(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, st)
}

type contextStatsResponse struct {
	Agents []fleet.ContextStat `json:"agents"`
	Source string              `json:"source"`
}

func (a *API) contextStats(w http.ResponseWriter, r *http.Request) error {
	st, source, err := a.svc.ContextStats(r.Context())
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, contextStatsResponse{st, source})
}
