package manager

import (
	"context"
	"net/http"

	"github.com/paddock/paddock/internal/guestproto"
)

// CreateCodeContext starts a code context (a persistent interpreter) for language in a
// running sandbox, in cwd ("" = the default), and returns its ID.
func (m *Manager) CreateCodeContext(ctx context.Context, idOrName, language, cwd string) (string, error) {
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return "", err
	}
	return m.client(sb).CreateContext(ctx, language, cwd)
}

// RestartCodeContext replaces a code context's interpreter; its state is cleared.
func (m *Manager) RestartCodeContext(ctx context.Context, idOrName, contextID string) error {
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return err
	}
	return m.client(sb).RestartContext(ctx, contextID)
}

// DeleteCodeContext ends a code context.
func (m *Manager) DeleteCodeContext(ctx context.Context, idOrName, contextID string) error {
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return err
	}
	return m.client(sb).DeleteContext(ctx, contextID)
}

// ExecuteCode runs a cell in a running sandbox's code interpreter and calls onEvent with each
// of its events (stdout, stderr, result, error, number_of_executions, keepalive,
// end_of_execution) as it arrives; an error from onEvent stops the execution. Cancelling
// ctx interrupts the cell; its context keeps its state.
func (m *Manager) ExecuteCode(ctx context.Context, idOrName string, req guestproto.ExecuteRequest, onEvent func(map[string]any) error) error {
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return err
	}
	defer m.Serving(ctx, sb.ID)() // a long cell keeps the sandbox from counting as idle
	return m.client(sb).Execute(ctx, req, onEvent)
}

// Metrics returns the resource-use samples a running sandbox's guest took between start and
// end (unix seconds, inclusive), oldest first, with a current reading when the range holds
// the present.
func (m *Manager) Metrics(ctx context.Context, idOrName string, start, end int64) ([]guestproto.Metrics, error) {
	sb, err := m.running(ctx, idOrName, AccessView)
	if err != nil {
		return nil, err
	}
	return m.client(sb).MetricsRange(ctx, start, end)
}

// GuestTransport returns the round tripper that reaches a running sandbox's guest, for a
// proxy that passes the guest protocol through (the E2B data plane). Requests it carries
// are the proxy's: they go to the guest as they are, and their access token is the guest's
// business.
func (m *Manager) GuestTransport(ctx context.Context, idOrName string) (http.RoundTripper, error) {
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	return m.client(sb).Transport(), nil
}
