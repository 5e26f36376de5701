package monitor

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/requests"
)

// FactsTimeout bounds the queries of one scrape. A database slower than
// this reports storekeep_database_facts_up 0 instead of holding the
// scrape (and a reader connection) for long.
const FactsTimeout = 2 * time.Second

// Facts is a prometheus.Collector of database facts, read at scrape time.
type Facts struct {
	db  *db.DB
	now func() time.Time

	up, queued, oldest, failing, privacy *prometheus.Desc
}

// NewFacts returns the collector of d's facts at now().
func NewFacts(d *db.DB, now func() time.Time) *Facts {
	return &Facts{db: d, now: now,
		up: prometheus.NewDesc("storekeep_database_facts_up",
			"1 when the last scrape could read the database facts below (outbox, privacy requests), 0 when the database did not answer in time.", nil, nil),
		queued: prometheus.NewDesc("storekeep_outbox_queued",
			"Messages in the outbox not yet sent and not given up (due now or waiting for a retry), by kind (transactional or bulk). The same on every instance.", []string{"kind"}, nil),
		oldest: prometheus.NewDesc("storekeep_outbox_oldest_queued_age_seconds",
			"Age of the oldest message in the outbox not yet sent and not given up; 0 when there is none. The same on every instance.", nil, nil),
		failing: prometheus.NewDesc("storekeep_outbox_failing",
			"Unsent messages whose last attempt failed: state retrying (another attempt is scheduled) or given_up (every attempt failed or the relay refused for good; staff can send them again). The same on every instance.", []string{"state"}, nil),
		privacy: prometheus.NewDesc("storekeep_privacy_requests_open",
			"Open data-subject requests by how close their deadline is: overdue, soon (due within 7 days) or later. The same on every instance.", []string{"due"}, nil),
	}
}

// Describe sends the descriptions of every metric.
func (f *Facts) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{f.up, f.queued, f.oldest, f.failing, f.privacy} {
		ch <- d
	}
}

// Collect reads the facts. When the database fails or is slow, only
// storekeep_database_facts_up (0) is reported: a missing series is
// honest, a zero would claim an empty outbox.
func (f *Facts) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), FactsTimeout)
	defer cancel()
	var ms []prometheus.Metric
	err := f.collect(ctx, func(m prometheus.Metric) { ms = append(ms, m) })
	if err != nil {
		ch <- prometheus.MustNewConstMetric(f.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(f.up, prometheus.GaugeValue, 1)
	for _, m := range ms {
		ch <- m
	}
}

func (f *Facts) collect(ctx context.Context, emit func(prometheus.Metric)) error {
	now := f.now().UTC()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		emit(prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}

	queued := map[string]float64{string(mail.Transactional): 0, string(mail.Bulk): 0}
	var retrying, givenUp float64
	rows, err := f.db.QueryContext(ctx, `SELECT kind, attempts >= $1, attempts > 0, COUNT(*) FROM outbox
		WHERE sent_at IS NULL GROUP BY kind, attempts >= $1, attempts > 0`, mail.MaxAttempts)
	if err != nil {
		return err
	}
	for rows.Next() {
		var kind string
		var gaveUp, tried bool
		var n float64
		if err := rows.Scan(&kind, &gaveUp, &tried, &n); err != nil {
			rows.Close()
			return err
		}
		switch {
		case gaveUp:
			givenUp += n
		case tried:
			retrying += n
			queued[kind] += n
		default:
			queued[kind] += n
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, k := range []string{string(mail.Transactional), string(mail.Bulk)} {
		gauge(f.queued, queued[k], k)
	}
	gauge(f.failing, retrying, "retrying")
	gauge(f.failing, givenUp, "given_up")

	var oldest time.Time
	// The unsent rows first, through the index on sent_at, then the
	// oldest of them: ordered by created_at alone, the planners walk the
	// created_at index from the sent history's oldest row (160 ms at
	// 100,000 sent messages on PostgreSQL, docs/benchmarks.md).
	err = f.db.QueryRowContext(ctx, `WITH queued AS MATERIALIZED (
			SELECT id, created_at FROM outbox WHERE sent_at IS NULL AND attempts < $1)
		SELECT created_at FROM queued ORDER BY created_at, id LIMIT 1`, mail.MaxAttempts).Scan(&oldest)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		gauge(f.oldest, 0)
	case err != nil:
		return err
	default:
		gauge(f.oldest, max(0, now.Sub(oldest).Seconds()))
	}

	open, overdue, soon, err := requests.Queue(ctx, f.db, now)
	if err != nil {
		return err
	}
	gauge(f.privacy, float64(overdue), "overdue")
	gauge(f.privacy, float64(soon), "soon")
	gauge(f.privacy, float64(open-overdue-soon), "later")
	return nil
}
