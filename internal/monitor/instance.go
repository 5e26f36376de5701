package monitor

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storekeep/storekeep/internal/mail"
)

// Instance holds the metrics of events in this process: the periodic
// jobs' runs (every instance runs every job, docs/deployment.md) and the
// mail worker's failed attempts. It is a prometheus.Collector.
type Instance struct {
	jobLastRun     *prometheus.GaugeVec
	jobLastSuccess *prometheus.GaugeVec
	jobDuration    *prometheus.HistogramVec
	jobFailures    *prometheus.CounterVec
	mailFailures   *prometheus.CounterVec
}

// NewInstance returns the metrics with a series for each of jobs (the
// names of the periodic jobs) and each mail failure kind, at zero.
func NewInstance(jobs []string) *Instance {
	i := &Instance{
		jobLastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "storekeep_periodic_job_last_run_timestamp_seconds",
			Help: "When this instance last finished a run of the periodic job, successful or not (Unix time; 0: not yet).",
		}, []string{"job"}),
		jobLastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "storekeep_periodic_job_last_success_timestamp_seconds",
			Help: "When this instance last finished a successful run of the periodic job (Unix time; 0: not yet).",
		}, []string{"job"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "storekeep_periodic_job_duration_seconds",
			Help:    "How long the periodic job's runs on this instance took.",
			Buckets: []float64{.001, .005, .025, .1, .5, 2.5, 10, 60, 300},
		}, []string{"job"}),
		jobFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storekeep_periodic_job_failures_total",
			Help: "Runs of the periodic job on this instance that failed (the log says why: \"periodic job failed\").",
		}, []string{"job"}),
		mailFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storekeep_mail_delivery_failures_total",
			Help: "Failed delivery attempts of this instance's mail worker, by kind: permanent (given up), attachment, timeout, connection, refused (retried).",
		}, []string{"kind"}),
	}
	for _, j := range jobs {
		i.jobLastRun.WithLabelValues(j)
		i.jobLastSuccess.WithLabelValues(j)
		i.jobDuration.WithLabelValues(j)
		i.jobFailures.WithLabelValues(j)
	}
	for _, k := range mail.FailureKinds {
		i.mailFailures.WithLabelValues(k)
	}
	return i
}

// JobRan records a run of the job that started at start, took took and
// ended with err.
func (i *Instance) JobRan(job string, start time.Time, took time.Duration, err error) {
	end := float64(start.Add(took).UnixNano()) / 1e9
	i.jobLastRun.WithLabelValues(job).Set(end)
	i.jobDuration.WithLabelValues(job).Observe(took.Seconds())
	if err != nil {
		i.jobFailures.WithLabelValues(job).Inc()
		return
	}
	i.jobLastSuccess.WithLabelValues(job).Set(end)
}

// MailFailed counts a failed delivery attempt of kind (mail.FailureKinds);
// it is the mail worker's OnFailure.
func (i *Instance) MailFailed(kind string) { i.mailFailures.WithLabelValues(kind).Inc() }

func (i *Instance) collectors() []prometheus.Collector {
	return []prometheus.Collector{i.jobLastRun, i.jobLastSuccess, i.jobDuration, i.jobFailures, i.mailFailures}
}

// Describe sends the descriptions of every metric.
func (i *Instance) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range i.collectors() {
		c.Describe(ch)
	}
}

// Collect sends the current values.
func (i *Instance) Collect(ch chan<- prometheus.Metric) {
	for _, c := range i.collectors() {
		c.Collect(ch)
	}
}
