package main

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
)

// addrRE matches IPv4 and bracketed or bare IPv6 addresses with an optional
// port, as net/http prints them ("TLS handshake error from 192.0.2.1:5555").
var addrRE = regexp.MustCompile(`\[?[0-9a-fA-F:]*:[0-9a-fA-F:]+\]?(:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b`)

// redactingHandler removes IP addresses from log messages that come from
// code we do not control (net/http's and the SMTP server's errors), so that
// no personal data reaches the logs. Attributes are our own code's and pass
// unchanged (the address a listener was configured with is no one's
// personal data). Loggers derived with With or WithGroup keep redacting.
type redactingHandler struct{ slog.Handler }

func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.ContainsAny(r.Message, ".:") {
		r2 := slog.NewRecord(r.Time, r.Level, addrRE.ReplaceAllString(r.Message, "[address]"), r.PC)
		r.Attrs(func(a slog.Attr) bool { r2.AddAttrs(a); return true })
		r = r2
	}
	return h.Handler.Handle(ctx, r)
}

func (h redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return redactingHandler{h.Handler.WithAttrs(attrs)}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{h.Handler.WithGroup(name)}
}
