package main

import (
	"context"
	"github.com/storekeep/storekeep/internal/fraud/detect"
	"log/slog"
	"sync"
	"time"

	"github.com/storekeep/storekeep/internal/analytics"
	"github.com/storekeep/storekeep/internal/breaches"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/requests"
	"github.com/storekeep/storekeep/internal/review"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/support"
)

// periodicJob is work each instance runs on a schedule. Jobs must be safe
// to run on several instances at once (dedup keys, conditional updates):
// running them everywhere needs no leader election.
type periodicJob struct {
	name  string
	every time.Duration
	run   func(ctx context.Context, d *db.DB, env jobEnv, now time.Time) error
}

// jobEnv is what jobs know of the site besides its database.
type jobEnv struct {
	// BaseURL is the site's address as links in mail carry it, without a
	// trailing slash.
	BaseURL string
	// Notices is the notices' sender (its rate from the flags); nil runs
	// no dispatch.
	Notices *notices.Sender
	// Ran, when set, is told of every run (the metrics,
	// monitor.Instance.JobRan).
	Ran func(job string, start time.Time, took time.Duration, err error)
}

// periodicJobNames are the jobs' names, the metrics' job label values.
func periodicJobNames() []string {
	names := make([]string, len(periodicJobs))
	for i, j := range periodicJobs {
		names[i] = j.name
	}
	return names
}

// periodicJobs is the one table of periodic work.
var periodicJobs = []periodicJob{
	{name: "retention purge", every: time.Hour, run: func(ctx context.Context, d *db.DB, _ jobEnv, now time.Time) error {
		_, err := privacy.Purge(ctx, d, privacy.Declared, now)
		return err
	}},
	{name: "privacy request digest", every: time.Hour, run: func(ctx context.Context, d *db.DB, _ jobEnv, now time.Time) error {
		// Sends at most once a day per owner (a dedup key per day); hourly
		// runs make it go out soon after a new day starts.
		_, err := requests.SendDigest(ctx, d, now)
		return err
	}},
	{name: "breach deadline warnings", every: 15 * time.Minute, run: func(ctx context.Context, d *db.DB, env jobEnv, now time.Time) error {
		// One warning per breach and owner (a dedup key), whichever
		// instance's run queues it; every 15 minutes so that a breach
		// recorded late is warned about within the hour it is recorded.
		_, err := breaches.SendDeadlineWarnings(ctx, d, env.BaseURL, now)
		return err
	}},
	{name: "monthly data review reminder", every: time.Hour, run: func(ctx context.Context, d *db.DB, env jobEnv, now time.Time) error {
		// A dedup key per month and owner: once a month over all instances.
		_, err := review.SendReminder(ctx, d, env.BaseURL, now)
		return err
	}},
	{name: "expire unpaid orders", every: time.Hour, run: func(ctx context.Context, d *db.DB, _ jobEnv, now time.Time) error {
		_, err := orders.ExpirePending(ctx, d, orders.DefaultExpiry, now)
		return err
	}},
	{name: "free lapsed seats", every: time.Hour, run: func(ctx context.Context, d *db.DB, _ jobEnv, now time.Time) error {
		// Seats of machines that stopped checking in; Activate and CheckIn
		// also free them on the way, so an hour late is never a seat short.
		_, err := licensing.FreeLapsedSeats(ctx, d, now)
		return err
	}},
	{name: "close solved tickets", every: time.Hour, run: func(ctx context.Context, d *db.DB, _ jobEnv, now time.Time) error {
		// A conditional update: running on several instances closes each once.
		_, err := (&support.Desk{DB: d, Clock: clock.NewFixed(now)}).CloseSolved(ctx)
		return err
	}},
	{name: "fraud signals", every: detect.EvaluateEvery, run: func(ctx context.Context, d *db.DB, _ jobEnv, now time.Time) error {
		// Each signal's source names its pattern, subject and day: runs
		// on several instances raise it once. Signals open review cases
		// only; a person decides.
		// The owner's thresholds are read at each run, so a change in
		// the console applies on every instance at its next run.
		th, err := detect.LoadThresholds(ctx, d)
		if err != nil {
			return err
		}
		_, err = detect.Evaluate(ctx, d, detect.Cases, th, now)
		return err
	}},
	{name: "analytics roll-up", every: 5 * time.Minute, run: func(ctx context.Context, d *db.DB, _ jobEnv, now time.Time) error {
		// Upserts of totals: running on several instances counts once.
		return analytics.Rollup(ctx, d, now)
	}},
	{name: "notices", every: time.Second, run: func(ctx context.Context, d *db.DB, env jobEnv, now time.Time) error {
		// Each run queues what the rate allows now; runs on several
		// instances serialise on one row and share the rate.
		if env.Notices == nil {
			return nil
		}
		_, err := env.Notices.RunOnce(ctx)
		return err
	}},
	{name: "renewal reminders", every: time.Hour, run: func(ctx context.Context, d *db.DB, env jobEnv, now time.Time) error {
		// Keyed by license, expiry and step: hourly runs on every
		// instance send each reminder once.
		v, err := settings.Load(ctx, d)
		if err != nil {
			return err
		}
		_, err = licensing.SendRenewalReminders(ctx, d, licensing.ReminderSite{Name: v.Name, BaseURL: env.BaseURL}, now)
		return err
	}},
}

// startPeriodic runs every job now and then on its schedule until stop is
// called; stop waits for runs in progress, so the database can close
// after it. wake is called after each run so that mail a job queued leaves
// at once. Failures are logged and retried at the next tick.
func startPeriodic(ctx context.Context, d *db.DB, clk clock.Clock, log *slog.Logger, env jobEnv, wake func()) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, j := range periodicJobs {
		wg.Go(func() {
			t := time.NewTicker(j.every)
			defer t.Stop()
			for {
				start := time.Now()
				err := j.run(ctx, d, env, clk.Now())
				if env.Ran != nil && (err == nil || ctx.Err() == nil) {
					// A run cut short by the shutdown is no failure.
					env.Ran(j.name, start, time.Since(start), err)
				}
				if err != nil && ctx.Err() == nil {
					log.Error("periodic job failed", "job", j.name, "error", err.Error())
				} else if wake != nil {
					wake()
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	return func() { cancel(); wg.Wait() }
}
