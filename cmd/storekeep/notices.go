package main

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/settings"
)

// newNoticeSender builds the notices' dispatcher with the configured rate
// (--notices-per-second, --notices-per-hour). Bulk mail needs an https
// unsubscribe link, so a site whose base URL is not https sends no
// notices (a warning says so; the console still composes them), except
// on the loopback interface: the demo, whose mail stays in its viewer.
func newNoticeSender(ctx context.Context, cfg *config.Config, d *db.DB, clk clock.Clock, log *slog.Logger) (*notices.Sender, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || !mail.UnsubscribeBase(base) {
		log.Warn("notices are not sent: their unsubscribe links need an https --base-url")
		return nil, nil
	}
	secret, err := settings.InstallSecret(ctx, d, clk.Now())
	if err != nil {
		return nil, err
	}
	v, err := settings.Load(ctx, d)
	if err != nil {
		return nil, err
	}
	return &notices.Sender{DB: d, Clock: clk, BaseURL: base, Secret: secret, Site: v.Name,
		Rate: notices.Rate{PerSecond: cfg.NoticesPerSecond, PerHour: cfg.NoticesPerHour}, Lists: notices.MailingLists{}}, nil
}
