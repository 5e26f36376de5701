package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestRedactionSurvivesWithAndWithGroup: loggers derived from the
// redacting handler (logger.With, WithGroup, both nested) still redact
// addresses in the message, and the handshake quieting still applies.
func TestRedactionSurvivesWithAndWithGroup(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(quietHandshakes{redactingHandler{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})}})
	for name, l := range map[string]*slog.Logger{
		"base":           base,
		"With":           base.With("component", "http"),
		"WithGroup":      base.WithGroup("server"),
		"With+WithGroup": base.With("component", "smtp").WithGroup("g").With("n", 1),
	} {
		buf.Reset()
		l.Warn("http: error from 192.0.2.44:51234: EOF; then [2001:db8::1]:443")
		out := buf.String()
		for _, addr := range []string{"192.0.2.44", "2001:db8::1"} {
			if strings.Contains(out, addr) {
				t.Errorf("%s: address %s left in the log: %s", name, addr, out)
			}
		}
		if !strings.Contains(out, "http: error from [address]") {
			t.Errorf("%s: message not redacted: %s", name, out)
		}
		buf.Reset()
		l.Warn("http: TLS handshake error from 192.0.2.1:1: EOF")
		if buf.Len() != 0 {
			t.Errorf("%s: handshake error not quieted to debug: %s", name, buf.String())
		}
	}
	if h := base.With("a", "b").Handler(); !isWrapped(h) {
		t.Errorf("With returned %T", h)
	}
}

func isWrapped(h slog.Handler) bool {
	q, ok := h.(quietHandshakes)
	if !ok {
		return false
	}
	_, ok = q.Handler.(redactingHandler)
	return ok && q.Enabled(context.Background(), slog.LevelDebug)
}
