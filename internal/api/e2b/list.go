package e2b

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// parseMetadata decodes the SDKs' metadata filter: one query parameter holding a form string
// whose keys and values were URL-encoded individually first. Splitting before unescaping
// keeps "&" and "=" inside keys and values intact.
func parseMetadata(raw string) (map[string]string, error) {
	if raw == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, pair := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, errdefs.InvalidArgument("metadata key %q is not URL-encoded", k)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, errdefs.InvalidArgument("metadata value %q is not URL-encoded", v)
		}
		if key != "" {
			out[key] = val
		}
	}
	return out, nil
}

// matching lists the sandboxes the caller sees (whichever surface made them) whose state is
// in states and whose metadata has filter.
func (a *API) matching(r *http.Request, states map[string]bool, filter map[string]string) ([]*sandbox.Sandbox, error) {
	sbs, err := a.m.List(r.Context(), sandbox.ListFilter{})
	if err != nil {
		return nil, err
	}
	var out []*sandbox.Sandbox
	for _, sb := range sbs {
		if !states[state(sb)] {
			continue
		}
		md := metadata(sb)
		ok := true
		for k, v := range filter {
			if md[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, sb)
		}
	}
	return out, nil
}

func (a *API) listV1(w http.ResponseWriter, r *http.Request) error {
	filter, err := parseMetadata(r.URL.Query().Get("metadata"))
	if err != nil {
		return err
	}
	sbs, err := a.matching(r, map[string]bool{"running": true}, filter)
	if err != nil {
		return err
	}
	out := make([]sandboxView, 0, len(sbs))
	for _, sb := range sbs {
		out = append(out, detail(sb, false))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// listV2 is GET /v2/sandboxes: state (comma list), metadata, order, startedAfter, template,
// limit (1-100, default 100) and an opaque nextToken answered in X-Next-Token.
func (a *API) listV2(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	states := map[string]bool{}
	for _, s := range strings.Split(strings.Join(q["state"], ","), ",") {
		switch s = strings.TrimSpace(s); s {
		case "":
		case "running", "paused":
			states[s] = true
		default:
			return errdefs.InvalidArgument("state %q: use running or paused", s)
		}
	}
	if len(states) == 0 {
		states = map[string]bool{"running": true, "paused": true}
	}
	filter, err := parseMetadata(q.Get("metadata"))
	if err != nil {
		return err
	}
	limit := 100
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 100 {
			return errdefs.InvalidArgument("limit %q: use 1 to 100", s)
		}
	}
	sbs, err := a.matching(r, states, filter)
	if err != nil {
		return err
	}
	var after time.Time
	if s := q.Get("startedAfter"); s != "" {
		if after, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return errdefs.InvalidArgument("startedAfter %q is not an RFC 3339 time", s)
		}
	}
	tmpl := q.Get("template")
	kept := sbs[:0]
	for _, sb := range sbs {
		if (after.IsZero() || sb.CreatedAt.After(after)) && (tmpl == "" || templateOf(sb) == tmpl) {
			kept = append(kept, sb)
		}
	}
	asc := q.Get("order") == "asc"
	sort.SliceStable(kept, func(i, j int) bool {
		if asc {
			return kept[i].CreatedAt.Before(kept[j].CreatedAt)
		}
		return kept[i].CreatedAt.After(kept[j].CreatedAt)
	})
	offset := 0
	if tok := q.Get("nextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if offset, _ = strconv.Atoi(string(b)); err != nil || offset < 0 {
			return errdefs.InvalidArgument("nextToken is not one this server issued")
		}
	}
	page := []sandboxView{}
	for i := offset; i < len(kept) && len(page) < limit; i++ {
		page = append(page, detail(kept[i], false))
	}
	if next := offset + len(page); next < len(kept) {
		w.Header().Set("X-Next-Token", base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(next))))
	}
	w.Header().Set("X-Total-Running", strconv.Itoa(len(kept)))
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}
