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

// redactingHandler removes IP addresses from log messages, and from string
// attributes, that come from code we do not control (net/http's server
// errors), so that no personal data reaches the logs. Loggers derived with
// With or WithGroup keep redacting.
type redactingHandler struct{ slog.Handler }

func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	r2 := slog.NewRecord(r.Time, r.Level, redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool { r2.AddAttrs(redactAttr(a)); return true })
	return h.Handler.Handle(ctx, r2)
}

func (h redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = redactAttr(a)
	}
	return redactingHandler{h.Handler.WithAttrs(out)}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{h.Handler.WithGroup(name)}
}

func redact(s string) string {
	if !strings.ContainsAny(s, ".:") {
		return s
	}
	return addrRE.ReplaceAllString(s, "[address]")
}

// redactAttr redacts a string attribute, and those inside groups.
func redactAttr(a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(redact(a.Value.String()))
	case slog.KindGroup:
		g := a.Value.Group()
		out := make([]slog.Attr, len(g))
		for i, x := range g {
			out[i] = redactAttr(x)
		}
		a.Value = slog.GroupValue(out...)
	case slog.KindLogValuer:
		return redactAttr(slog.Attr{Key: a.Key, Value: a.Value.Resolve()})
	}
	return a
}
