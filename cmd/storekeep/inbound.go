package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/inbound"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/settings"
)

// startInbound starts the receiver of mail to the privacy address on
// --inbound-smtp-addr (docs/inbound-mail.md), and returns a function that
// stops it and waits until it has. With the setting empty nothing listens.
// ctx ending stops it too.
func startInbound(ctx context.Context, cfg *config.Config, d *db.DB, log *slog.Logger) (stop func(), err error) {
	if cfg.InboundSMTPAddr == "" {
		return func() {}, nil
	}
	if _, _, err := net.SplitHostPort(cfg.InboundSMTPAddr); err != nil {
		return nil, fmt.Errorf("--inbound-smtp-addr %q is not host:port: use e.g. 127.0.0.1:2525", cfg.InboundSMTPAddr)
	}
	secret, err := settings.InstallSecret(ctx, d, time.Now())
	if err != nil {
		return nil, fmt.Errorf("inbound mail: %w", err)
	}
	ln, err := listen(cfg.InboundSMTPAddr, "--inbound-smtp-addr")
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	// go-smtp's own messages name the peer's address: redact them.
	log = slog.New(redactingHandler{log.Handler()})
	srv := inbound.New(inbound.Config{DB: d, Limiter: ratelimit.New(d, secret), Log: log, Domain: host})
	attrs := []any{"addr", ln.Addr().String(), "max_bytes", inbound.DefaultMaxBytes}
	if !privateAddr(ln.Addr()) {
		log.Warn("inbound mail: --inbound-smtp-addr is not a loopback or private address: let only your mail server reach it (firewall)", attrs...)
	}
	log.Info("inbound mail: receiving mail to the privacy address", attrs...)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil {
			log.Error("inbound mail: the receiver stopped", "error", err.Error())
		}
	})
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if err := srv.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				log.Warn("inbound mail: closing the receiver", "error", err.Error())
			}
			wg.Wait()
		})
	}
	context.AfterFunc(ctx, stop)
	return stop, nil
}

// privateAddr reports whether a listener's address is reachable only from
// this machine or a private network.
func privateAddr(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate()
}
