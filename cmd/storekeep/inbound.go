package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/storekeep/storekeep/internal/bounces"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/inbound"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/support"
)

// mailboxes is the list of Storekeep's mailboxes, in the order they are
// asked for a recipient: the SMTP and LMTP receivers and "support ingest"
// all use it. Add a mailbox here and every transport takes its mail.
func mailboxes(ctx context.Context, cfg *config.Config, d *db.DB, log *slog.Logger) ([]inbound.Mailbox, error) {
	secret, err := settings.InstallSecret(ctx, d, time.Now())
	if err != nil {
		return nil, fmt.Errorf("inbound mail: %w", err)
	}
	lim := ratelimit.New(d, secret)
	privacy := inbound.PrivacyMailbox(inbound.PrivacyConfig{DB: d, Limiter: lim, Log: log})
	// The desk logs nothing itself here: the listener's one line per
	// message carries its outcome (inbound.LogAttrs).
	desk := &support.Desk{DB: d, Clock: clock.System{}, Limiter: lim, BaseURL: strings.TrimSuffix(cfg.BaseURL, "/")}
	// Delivery reports and complaints about our mail, sent to its VERP
	// return path (docs/mailing.md, "Bounces and complaints").
	bounceLocal, bounceDomain, err := cfg.BounceLocalDomain()
	if err != nil {
		return nil, fmt.Errorf("inbound mail: %w", err)
	}
	bounceBox := bounces.Config{DB: d, Secret: secret, Local: bounceLocal, Domain: bounceDomain, Clock: clock.System{},
		SoftLimit: cfg.BounceSoftLimit, SoftWindow: time.Duration(cfg.BounceSoftDays) * 24 * time.Hour}.Mailbox()
	return []inbound.Mailbox{privacy, desk.Mailbox(), bounceBox}, nil
}

// inboundListener is one of the receivers startInbound starts.
type inboundListener struct {
	flag string // --inbound-smtp-addr
	addr string
	lmtp bool
}

// checkInboundAddr says what is wrong with the value of an inbound
// listener's flag, and what to give instead.
func checkInboundAddr(l inboundListener) error {
	if path, ok := inbound.SocketPath(l.addr); ok {
		if !l.lmtp {
			return fmt.Errorf("%s %q: SMTP listens on host:port only, e.g. 127.0.0.1:2525; for a Unix socket use --inbound-lmtp-addr", l.flag, l.addr)
		}
		if !strings.HasPrefix(path, "/") {
			return fmt.Errorf("%s %q: a Unix socket needs an absolute path, e.g. /run/storekeep/lmtp.sock", l.flag, l.addr)
		}
		return nil
	}
	example := "127.0.0.1:2525"
	if l.lmtp {
		example = "127.0.0.1:2424 or a socket path such as /run/storekeep/lmtp.sock"
	}
	if _, _, err := net.SplitHostPort(l.addr); err != nil {
		return fmt.Errorf("%s %q is not host:port: use e.g. %s", l.flag, l.addr, example)
	}
	return nil
}

// startInbound starts the receivers of mail for the mailboxes (mailboxes,
// then extra) on --inbound-smtp-addr and --inbound-lmtp-addr
// (docs/inbound-mail.md), and returns a function that stops them and
// waits until they have. With both settings empty nothing listens. ctx
// ending stops them too.
func startInbound(ctx context.Context, cfg *config.Config, d *db.DB, log *slog.Logger, extra ...inbound.Mailbox) (stop func(), err error) {
	var wanted []inboundListener
	if cfg.InboundSMTPAddr != "" {
		wanted = append(wanted, inboundListener{flag: "--inbound-smtp-addr", addr: cfg.InboundSMTPAddr})
	}
	if cfg.InboundLMTPAddr != "" {
		wanted = append(wanted, inboundListener{flag: "--inbound-lmtp-addr", addr: cfg.InboundLMTPAddr, lmtp: true})
	}
	if len(wanted) == 0 {
		return func() {}, nil
	}
	for _, l := range wanted {
		if err := checkInboundAddr(l); err != nil {
			return nil, err
		}
	}
	// go-smtp's own messages name the peer's address: redact them.
	log = slog.New(redactingHandler{log.Handler()})
	mbs, err := mailboxes(ctx, cfg, d, log)
	if err != nil {
		return nil, err
	}
	mbs = append(mbs, extra...)
	names := make([]string, len(mbs))
	for i, m := range mbs {
		names[i] = m.Name()
	}
	host, _ := os.Hostname()

	var (
		wg      sync.WaitGroup
		servers []*inbound.Server
	)
	closeAll := func() {
		for _, s := range servers {
			if err := s.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				log.Warn("inbound mail: closing the receiver", "error", err.Error())
			}
		}
		wg.Wait()
	}
	for _, l := range wanted {
		var ln net.Listener
		if _, socket := inbound.SocketPath(l.addr); socket {
			if ln, err = inbound.Listen(l.addr); err != nil {
				err = fmt.Errorf("cannot listen on %s %s: %v", l.flag, l.addr, err)
			}
		} else {
			ln, err = listen(l.addr, l.flag) // its errors give the hints for ports
		}
		if err != nil {
			closeAll()
			return nil, err
		}
		srv := inbound.New(inbound.Config{Mailboxes: mbs, Log: log, Domain: host, LMTP: l.lmtp})
		servers = append(servers, srv)
		protocol := "SMTP"
		if l.lmtp {
			protocol = "LMTP"
		}
		attrs := []any{"protocol", protocol, "addr", ln.Addr().String(), "mailboxes", strings.Join(names, ","), "max_bytes", inbound.MaxBytes(mbs)}
		if _, socket := inbound.SocketPath(l.addr); !socket && !privateAddr(ln.Addr()) {
			log.Warn("inbound mail: "+l.flag+" is not a loopback or private address: let only your mail server reach it (firewall)", attrs...)
		}
		log.Info("inbound mail: receiving mail", attrs...)
		wg.Go(func() {
			if err := srv.Serve(ln); err != nil {
				log.Error("inbound mail: the receiver stopped", "protocol", protocol, "error", err.Error())
			}
		})
	}
	var once sync.Once
	stop = func() { once.Do(closeAll) }
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
