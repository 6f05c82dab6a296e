package e2b

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/manager"
)

// maxWebhooks bounds one user's webhooks.
const maxWebhooks = 20

type (
	// webhookCreate is POST /events/webhooks.
	webhookCreate struct {
		Name            string   `json:"name"`
		URL             string   `json:"url"`
		Enabled         *bool    `json:"enabled"`
		Events          []string `json:"events"`
		SignatureSecret string   `json:"signatureSecret"`
	}
	// webhookUpdate is PATCH /events/webhooks/{id}: the fields given replace the old ones.
	webhookUpdate struct {
		Name            *string  `json:"name"`
		URL             *string  `json:"url"`
		Enabled         *bool    `json:"enabled"`
		Events          []string `json:"events"`
		SignatureSecret *string  `json:"signatureSecret"`
	}
	// webhookView is a webhook as the API shows it: never its secret.
	webhookView struct {
		ID        string    `json:"id"`
		TeamID    string    `json:"teamID"`
		Name      string    `json:"name"`
		CreatedAt time.Time `json:"createdAt"`
		Enabled   bool      `json:"enabled"`
		URL       string    `json:"url"`
		Events    []string  `json:"events"`
	}
)

func viewOf(w *lifecycle.Webhook) webhookView {
	return webhookView{ID: w.ID, TeamID: w.Owner, Name: w.Name, CreatedAt: w.CreatedAt, Enabled: w.Enabled, URL: w.URL, Events: w.Events}
}

// checkWebhook validates what a webhook would deliver where.
func checkWebhook(w *lifecycle.Webhook) error {
	u, err := url.Parse(w.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return errdefs.InvalidArgument("url: give an absolute http or https URL")
	case u.User != nil:
		return errdefs.InvalidArgument("url: credentials in the URL are not accepted")
	case w.Secret == "":
		return errdefs.InvalidArgument("signatureSecret is required: every delivery is signed with it")
	case len(w.Secret) > 256 || len(w.Name) > 256 || len(w.URL) > 2048:
		return errdefs.InvalidArgument("name and signatureSecret are limited to 256 bytes, url to 2048")
	case len(w.Events) == 0:
		return errdefs.InvalidArgument("events: name at least one of %v", lifecycle.Types)
	}
	for _, e := range w.Events {
		if !lifecycle.KnownType(e) {
			return errdefs.InvalidArgument("events: %q is not one of %v", e, lifecycle.Types)
		}
	}
	return nil
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	s, err := a.lifecycleStore()
	if err != nil {
		return err
	}
	var b webhookCreate
	if err := a.body(w, r, &b); err != nil {
		return err
	}
	c := manager.CallerFrom(r.Context())
	hook := &lifecycle.Webhook{ID: lifecycle.NewID(), Owner: c.UserID, Name: b.Name, URL: b.URL, Enabled: b.Enabled == nil || *b.Enabled,
		Events: slices.Compact(slices.Sorted(slices.Values(b.Events))), Secret: b.SignatureSecret, CreatedAt: time.Now().UTC()}
	if b.Events == nil {
		hook.Events = lifecycle.Types
	}
	if err := checkWebhook(hook); err != nil {
		return err
	}
	mine, err := s.ListWebhooks(r.Context(), c.UserID, false)
	if err != nil {
		return err
	}
	if len(mine) >= maxWebhooks {
		return errdefs.New(errdefs.ErrResourceExhausted, "you have %d webhooks, the most one user may have: delete one first", len(mine))
	}
	if err := s.CreateWebhook(r.Context(), hook); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, viewOf(hook))
	return nil
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	s, err := a.lifecycleStore()
	if err != nil {
		return err
	}
	c := manager.CallerFrom(r.Context())
	hooks, err := s.ListWebhooks(r.Context(), c.UserID, c.Unrestricted())
	if err != nil {
		return err
	}
	out := make([]webhookView, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, viewOf(h))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// ownWebhook reads the webhook of the path that the caller registered (any, for admins);
// another user's is not found.
func (a *API) ownWebhook(r *http.Request) (lifecycle.Store, *lifecycle.Webhook, error) {
	s, err := a.lifecycleStore()
	if err != nil {
		return nil, nil, err
	}
	id := r.PathValue("id")
	hook, err := s.GetWebhook(r.Context(), id)
	if err != nil {
		return nil, nil, err
	}
	if c := manager.CallerFrom(r.Context()); !c.Unrestricted() && hook.Owner != c.UserID {
		return nil, nil, errdefs.NotFound("webhook %q not found", id)
	}
	return s, hook, nil
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) error {
	_, hook, err := a.ownWebhook(r)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, viewOf(hook))
	return nil
}

func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	s, hook, err := a.ownWebhook(r)
	if err != nil {
		return err
	}
	var b webhookUpdate
	if err := a.body(w, r, &b); err != nil {
		return err
	}
	if b.Name != nil {
		hook.Name = *b.Name
	}
	if b.URL != nil {
		hook.URL = *b.URL
	}
	if b.Enabled != nil {
		hook.Enabled = *b.Enabled
	}
	if b.Events != nil {
		hook.Events = slices.Compact(slices.Sorted(slices.Values(b.Events)))
	}
	if b.SignatureSecret != nil {
		hook.Secret = *b.SignatureSecret
	}
	if err := checkWebhook(hook); err != nil {
		return err
	}
	if err := s.UpdateWebhook(r.Context(), hook); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, viewOf(hook))
	return nil
}

// deleteWebhook answers 200, as E2B does; what its queue still held is not sent.
func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	s, hook, err := a.ownWebhook(r)
	if err != nil {
		return err
	}
	if err := s.DeleteWebhook(r.Context(), hook.ID); err != nil {
		return err
	}
	if a.dispatcher != nil {
		a.dispatcher.Forget(hook.ID)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
