package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/storekeep/storekeep/internal/analytics"
	"github.com/storekeep/storekeep/internal/analytics/salt"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/geoip"
)

// startAnalytics starts the usage analytics when --analytics is on: the
// day's salt, agreed with the other instances (internal/analytics/salt),
// and the counter the beacon endpoint feeds. stop writes what is queued
// and forgets the salt; call it after the HTTP server has stopped.
func startAnalytics(ctx context.Context, cfg *config.Config, d *db.DB, clk clock.Clock, log *slog.Logger) (c *analytics.Counter, stop func(), err error) {
	if !cfg.Analytics {
		return nil, func() {}, nil
	}
	var countries analytics.Countries
	var geo *geoip.DB
	if cfg.GeoIPDB != "" {
		if geo, err = geoip.Open(cfg.GeoIPDB); err != nil {
			return nil, nil, fmt.Errorf("--geoip-db: %w", err)
		}
		countries = geo
		info := geo.Info()
		log.Info("geoip database loaded", "type", info.Type, "built", info.Built.Format(time.DateOnly))
	}
	keeper := salt.New(d, clk, log)
	// The first round now, so that the first beacons find the salt.
	if err := keeper.Sync(ctx); err != nil {
		log.Warn("analytics: the day's salt is not agreed yet; beacons are not counted until it is", "error", err.Error())
	}
	kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); keeper.Run(kctx) }()
	c, err = analytics.New(d, analytics.Options{Clock: clk, Logger: log, Site: cfg.BaseURL, Salts: keeper, Countries: countries})
	if err != nil {
		cancel()
		<-done
		if geo != nil {
			_ = geo.Close()
		}
		return nil, nil, err
	}
	return c, func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		if err := c.Close(cctx); err != nil {
			log.Error("analytics: not everything queued was written", "error", err)
		}
		cancel()
		<-done
		if geo != nil {
			_ = geo.Close()
		}
	}, nil
}
