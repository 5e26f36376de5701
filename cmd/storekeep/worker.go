package main

import (
	"context"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"os"
	"sync"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/documents"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/support"
)

// startMailWorker starts the worker that sends the outbox, and returns a
// function that wakes it (when a request has just queued mail) and one that
// stops it and waits until it has (a delivery in progress is finished and
// recorded first).
//
// The sender is the SMTP relay when --smtp-host is set, in the demo too
// (the browser tests point the demo at a test relay). The demo without a
// relay uses the dev sender: mail is marked sent and shown at /dev/mail.
// A site without a relay sends nothing: mail waits in the outbox, visible
// to staff, and goes out once a relay is configured.
func startMailWorker(ctx context.Context, cfg *config.Config, d *db.DB, log *slog.Logger, demo bool) (wake, stop func(), err error) {
	return startMailWorkerWith(ctx, cfg, d, log, demo, nil)
}

// startMailWorkerWith is startMailWorker with the worker's OnFailure (the
// metrics' count of failed attempts; nil counts nothing).
func startMailWorkerWith(ctx context.Context, cfg *config.Config, d *db.DB, log *slog.Logger, demo bool, onFailure func(kind string)) (wake, stop func(), err error) {
	var sender mail.Sender
	dkim, err := dkimSigner(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case cfg.SMTPHost != "":
		if cfg.SMTPFrom != "" {
			if _, err := netmail.ParseAddress(cfg.SMTPFrom); err != nil {
				return nil, nil, fmt.Errorf("--smtp-from %q is not an email address: give one such as shop@example.com or \"Shop <shop@example.com>\"", cfg.SMTPFrom)
			}
		}
		s, err := mail.NewSMTPSender(mail.SMTPConfig{
			Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
			TLS: mail.TLSOpportunistic, DKIM: dkim,
		})
		if err != nil {
			return nil, nil, err
		}
		sender = s
		attrs := []any{"host", cfg.SMTPHost, "port", cfg.SMTPPort, "tls", mail.TLSOpportunistic.String()}
		if cfg.SMTPFrom == "" {
			attrs = append(attrs, "from", "the support address in the settings")
		}
		log.Info("mail: sending through an SMTP relay", attrs...)
		if dkim == nil {
			log.Info("mail: no DKIM key configured (--dkim-key): outgoing mail is not signed; create one with `storekeep mail dkim-keygen`")
		}
	case demo:
		sender = mail.DevSender{}
		log.Info("mail: demo mode, nothing is sent; read the mail at /dev/mail")
	default:
		log.Warn("mail: no SMTP relay configured (--smtp-host): emails stay queued in the outbox until one is")
		return func() {}, func() {}, nil
	}
	host, _ := os.Hostname()
	bounceLocal, bounceDomain, err := cfg.BounceLocalDomain()
	if err != nil {
		return nil, nil, err
	}
	w := &mail.Worker{
		// Each message's return path is its VERP address, read by the
		// inbound listener's bounces mailbox (docs/mailing.md).
		BounceLocal: bounceLocal, BounceDomain: bounceDomain,
		DB: d, Sender: sender, Clock: clock.System{}, Log: log, From: cfg.SMTPFrom, ID: mail.NewWorkerID(host),
		Lease: time.Duration(cfg.MailLeaseSeconds) * time.Second, OnFailure: onFailure,
		// Confirmations and invoices carry the invoice's PDF, rendered
		// when the message is sent.
		Attacher: mail.Attachers{documents.MailAttacher{Source: documents.Source{DB: d, PaymentInstructions: invoiceInstructions(cfg, demo)}},
			support.MailAttacher{DB: d}},
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx) })
	var once sync.Once
	return w.Wake, func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}, nil
}
