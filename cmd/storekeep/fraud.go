package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/geoip"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/web/app"
)

// startFraud builds what the fraud signals need on the request path
// (internal/fraud/detect, docs/fraud-signals.md): the observer that
// records activations, check-ins, repository use and checkouts as keyed
// network hashes, the disposable-mail list (--fraud-disposable-domains
// added to the built-in one), the GeoIP database when --geoip-db names
// one, and the processor events' signals. Signals only open review
// cases; nothing here decides. stop writes what the observer has queued;
// call it after the HTTP server has stopped, before the database closes.
func startFraud(ctx context.Context, cfg *config.Config, d *db.DB, clk clock.Clock, log *slog.Logger) (f app.Fraud, stop func(), err error) {
	secret, err := settings.InstallSecret(ctx, d, clk.Now())
	if err != nil {
		return app.Fraud{}, nil, err
	}
	list, err := detect.NewDisposable(cfg.FraudDisposableDomains, log)
	if err != nil {
		return app.Fraud{}, nil, fmt.Errorf("--fraud-disposable-domains: %w; fix the file (one domain per line, # for comments) or leave the flag empty for the built-in list", err)
	}
	checks := &detect.Checks{Raise: detect.Cases, Disposable: list}
	var geo *geoip.DB
	if cfg.GeoIPDB != "" {
		if geo, err = geoip.Open(cfg.GeoIPDB); err != nil {
			return app.Fraud{}, nil, fmt.Errorf("--geoip-db: %w", err)
		}
		checks.Geo = geo
	}
	obs := detect.NewObserver(d, secret, clk, log)
	checks.Observer = obs
	return app.Fraud{Observer: obs, Checks: checks, Signals: detect.Processor{Raise: detect.Cases}}, func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := obs.Close(cctx); err != nil {
			log.Error("fraud signals: not every observation queued was written", "error", err)
		}
		if geo != nil {
			_ = geo.Close()
		}
	}, nil
}
