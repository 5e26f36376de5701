package main

import (
	"bytes"
	"log/slog"
	"testing"
	"time"
)

// The "listening" line is found in both of slog's formats, as storekeep
// writes them.
func TestListeningStartup(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		var h slog.Handler = slog.NewTextHandler(&buf, nil)
		if format == "json" {
			h = slog.NewJSONHandler(&buf, nil)
		}
		slog.New(h).Info("listening", "addr", "127.0.0.1:1", "db", "sqlite:/x y.db", "startup", 12345*time.Microsecond)
		got, ok := listeningStartup(string(bytes.TrimSpace(buf.Bytes())))
		if !ok || got != "12.345" {
			t.Errorf("%s: listeningStartup(%q) = %q, %v; want 12.345, true", format, buf.String(), got, ok)
		}
	}
	for _, line := range []string{
		`time=x level=INFO msg="applied migration" startup=1ms`,
		`{"msg":"request","startup":1000000}`,
		`not a log line`,
	} {
		if got, ok := listeningStartup(line); ok {
			t.Errorf("listeningStartup(%q) = %q, true; want false", line, got)
		}
	}
}
