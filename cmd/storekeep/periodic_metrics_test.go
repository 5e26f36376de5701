package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/monitor"
	"github.com/storekeep/storekeep/internal/testutil"
)

// jobSamples scrapes url's /metrics, parses it as Prometheus does and
// returns the job's sample of each family that has one.
func jobSamples(t *testing.T, url, job string) map[string]*dto.Metric {
	t.Helper()
	fams := scrape(t, url)
	out := map[string]*dto.Metric{}
	for name, f := range fams {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "job" && l.GetValue() == job {
					out[name] = m
				}
			}
		}
	}
	return out
}

// TestPeriodicJobMetrics: the periodic jobs' runs show in the metrics by
// job name: the last run and last success times, the duration and the
// failures; a failing job counts a failure and keeps no success time.
// The real job table runs first, on a fresh database: every job succeeds.
func TestPeriodicJobMetrics(t *testing.T) {
	d := testutil.SQLite(t)
	mon := monitor.NewInstance(periodicJobNames())
	reg := prometheus.NewRegistry()
	reg.MustRegister(mon)
	ts := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer ts.Close()

	before := time.Now()
	done := make(chan string, 1<<12)
	env := jobEnv{BaseURL: "http://127.0.0.1:8080", Ran: func(job string, start time.Time, took time.Duration, err error) {
		mon.JobRan(job, start, took, err)
		done <- job
	}}
	stop := startPeriodic(context.Background(), d, clock.System{}, slog.New(slog.DiscardHandler), env, nil)
	seen := map[string]bool{}
	deadline := time.After(60 * time.Second)
	for len(seen) < len(periodicJobs) {
		select {
		case j := <-done:
			seen[j] = true
		case <-deadline:
			stop()
			t.Fatalf("jobs that ran: %v of %d", seen, len(periodicJobs))
		}
	}
	stop()
	for _, job := range periodicJobNames() {
		s := jobSamples(t, ts.URL, job)
		last, ok := s["storekeep_periodic_job_last_run_timestamp_seconds"]
		if !ok || last.Gauge.GetValue() < float64(before.Unix()) {
			t.Errorf("%s: last run %v", job, last)
			continue
		}
		if s["storekeep_periodic_job_last_success_timestamp_seconds"].Gauge.GetValue() != last.Gauge.GetValue() && s["storekeep_periodic_job_failures_total"].Counter.GetValue() == 0 {
			t.Errorf("%s: last success differs from the last run without a failure", job)
		}
		if n := s["storekeep_periodic_job_failures_total"].Counter.GetValue(); n != 0 {
			t.Errorf("%s: %v failures on a fresh database", job, n)
		}
		if n := s["storekeep_periodic_job_duration_seconds"].Histogram.GetSampleCount(); n < 1 {
			t.Errorf("%s: %d durations observed", job, n)
		}
	}

	// A job that fails.
	saved := periodicJobs
	t.Cleanup(func() { periodicJobs = saved })
	periodicJobs = []periodicJob{{name: "breaks", every: time.Hour, run: func(context.Context, *db.DB, jobEnv, time.Time) error {
		return errors.New("broken on purpose")
	}}}
	mon = monitor.NewInstance(periodicJobNames())
	reg = prometheus.NewRegistry()
	reg.MustRegister(mon)
	ts2 := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer ts2.Close()
	if s := jobSamples(t, ts2.URL, "breaks"); s["storekeep_periodic_job_failures_total"] == nil || s["storekeep_periodic_job_last_run_timestamp_seconds"].Gauge.GetValue() != 0 {
		t.Fatalf("before its first run the job's series are not there at zero: %v", s)
	}
	stop = startPeriodic(context.Background(), d, clock.System{}, slog.New(slog.DiscardHandler), env, nil)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the failing job did not run")
	}
	stop()
	s := jobSamples(t, ts2.URL, "breaks")
	if n := s["storekeep_periodic_job_failures_total"].Counter.GetValue(); n != 1 {
		t.Errorf("failures = %v, want 1", n)
	}
	if v := s["storekeep_periodic_job_last_success_timestamp_seconds"].Gauge.GetValue(); v != 0 {
		t.Errorf("last success = %v after a failed run, want 0", v)
	}
	if v := s["storekeep_periodic_job_last_run_timestamp_seconds"].Gauge.GetValue(); v < float64(before.Unix()) {
		t.Errorf("last run = %v", v)
	}
}
