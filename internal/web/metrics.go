package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/storekeep/storekeep/internal/db"
)

// metrics are the server's Prometheus metrics, in a registry of its own:
// the global registry would make two Servers in one process (as in tests)
// collide, and would export whatever any dependency registers.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics(d *db.DB, version string) *metrics {
	reg := prometheus.NewRegistry()
	// Labels are the route pattern and the status code only: both have a
	// small, fixed set of values, and neither can carry a slug, an email
	// address or anything else a visitor typed.
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storekeep_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "storekeep_http_request_duration_seconds",
			Help:    "Time taken to answer HTTP requests, by route pattern and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "code"}),
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "storekeep_build_info",
		Help:        "Always 1; the version label names the running build.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	info.Set(1)
	reg.MustRegister(
		m.requests, m.duration, info,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(d.Reader(), "reader"),
	)
	if d.Writer() != d.Reader() {
		reg.MustRegister(collectors.NewDBStatsCollector(d.Writer(), "writer"))
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

// observe counts one answered request.
func (m *metrics) observe(route string, status int, elapsed time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, code).Inc()
	m.duration.WithLabelValues(route, code).Observe(elapsed.Seconds())
}

// RegisterCollector adds an area's metrics (a prometheus.Collector) to
// those the metrics listener serves; for areas mounting while the site is
// assembled.
func (s *Server) RegisterCollector(c prometheus.Collector) error {
	return s.metrics.registry.Register(c)
}
