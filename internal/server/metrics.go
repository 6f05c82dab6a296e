package server

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/webhook"
)

// metrics owns the server's Prometheus registry.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	events   *prometheus.CounterVec
	execs    prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "paddock_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "code"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "paddock_audit_events_total", Help: "Audit events recorded, by type.",
		}, []string{"type"}),
		execs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "paddock_exec_duration_seconds", Help: "Duration of commands run in sandboxes.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}),
	}
	m.reg.MustRegister(m.requests, m.events, m.execs, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// watchManager adds gauges read from the manager at scrape time.
func (m *metrics) watchManager(mgr *manager.Manager) {
	m.reg.MustRegister(&managerCollector{m: mgr,
		sandboxes: prometheus.NewDesc("paddock_sandboxes", "Sandboxes by state.", []string{"state"}, nil),
		ready:     prometheus.NewDesc("paddock_pool_ready", "Warm sandboxes ready, by pool.", []string{"template", "image", "profile"}, nil),
		size:      prometheus.NewDesc("paddock_pool_size", "Configured warm pool size.", []string{"template", "image", "profile"}, nil),
		claims:    prometheus.NewDesc("paddock_pool_claims_total", "Sandboxes taken from a warm pool.", []string{"template", "image", "profile"}, nil),
		misses:    prometheus.NewDesc("paddock_pool_misses_total", "Creates that found the pool empty.", []string{"template", "image", "profile"}, nil),
	})
}

// watchLimiter exports the heavy-request cap: requests in flight, waiting, refused.
func (m *metrics) watchLimiter(l *httpx.Limiter) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "paddock_heavy_requests_in_flight",
			Help: "File transfers and buffered commands running now (at most paddock_heavy_requests_limit)."},
			func() float64 { return float64(l.InFlight()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "paddock_heavy_requests_waiting",
			Help: "Heavy requests waiting for a turn."},
			func() float64 { return float64(l.Waiting()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "paddock_heavy_requests_limit",
			Help: "How many heavy requests run at once (max-heavy-requests)."},
			func() float64 { return float64(l.Capacity()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "paddock_heavy_requests_refused_total",
			Help: "Heavy requests refused with 503 because none finished in time."},
			func() float64 { return float64(l.Refused()) }),
	)
}

// watchWebhooks exports lifecycle webhook deliveries: accepted, and dropped by reason.
func (m *metrics) watchWebhooks(d *webhook.Dispatcher) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "paddock_webhook_events_delivered_total",
		Help: "Lifecycle events a webhook receiver accepted."}, func() float64 { return float64(d.Delivered()) }))
	for _, reason := range []string{webhook.DropQueueFull, webhook.DropUndeliverable, webhook.DropShutdown} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "paddock_webhook_events_dropped_total",
			Help: "Lifecycle events not delivered to a webhook, by reason.", ConstLabels: prometheus.Labels{"reason": reason}},
			func() float64 { return float64(d.Dropped()[reason]) }))
	}
}

type managerCollector struct {
	m                                      *manager.Manager
	sandboxes, ready, size, claims, misses *prometheus.Desc
}

func (c *managerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sandboxes, c.ready, c.size, c.claims, c.misses} {
		ch <- d
	}
}

func (c *managerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts := map[sandbox.State]int{}
	if sbs, err := c.m.List(ctx, sandbox.ListFilter{}); err == nil {
		for _, sb := range sbs {
			counts[sb.State]++
		}
	}
	for _, st := range []sandbox.State{sandbox.StateRunning, sandbox.StatePaused, sandbox.StateStopped, sandbox.StateFailed} {
		ch <- prometheus.MustNewConstMetric(c.sandboxes, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
	for _, p := range c.m.PoolStats() {
		ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, float64(p.Ready), p.Template, p.Image, p.Profile)
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(p.Size), p.Template, p.Image, p.Profile)
		ch <- prometheus.MustNewConstMetric(c.claims, prometheus.CounterValue, float64(p.Claims), p.Template, p.Image, p.Profile)
		ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(p.Misses), p.Template, p.Image, p.Profile)
	}
}

// countingEvents counts audit events (and exec durations) on their way to the store.
type countingEvents struct {
	audit.Store
	m *metrics
}

func (c countingEvents) AppendEvents(ctx context.Context, evs ...audit.Event) error {
	err := c.Store.AppendEvents(ctx, evs...)
	if err == nil {
		for _, ev := range evs {
			c.m.events.WithLabelValues(ev.Type).Inc()
			if ms, ok := ev.Details["duration_ms"].(int64); ok && ev.Type == audit.CommandExecuted {
				c.m.execs.Observe(float64(ms) / 1000)
			}
		}
	}
	return err
}

// instrument records each request's latency under the route pattern mux matches, and logs
// it (one line per request, with its ID).
func (m *metrics) instrument(mux *http.ServeMux, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		_, route := mux.Handler(r)
		if route == "" {
			route = "unmatched"
		}
		dur := time.Since(start)
		m.requests.WithLabelValues(route, http.StatusText(sw.code)).Observe(dur.Seconds())
		log.Info("request", "req", httpx.RequestID(r.Context()), "method", r.Method, "route", route,
			"status", sw.code, "dur", dur)
	})
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// statusWriter remembers the status code and keeps streaming working.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack lets WebSocket upgrades through.
func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	s.code = http.StatusSwitchingProtocols
	return http.NewResponseController(s.ResponseWriter).Hijack()
}
