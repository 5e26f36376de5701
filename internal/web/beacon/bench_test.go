package beacon_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/beacon"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// BenchmarkBeacon measures a view beacon through the whole site (every
// middleware, the checks, the counter, the writer storing to SQLite in
// the background) against a bare net/http handler that reads the body and
// answers 204, in the same run, in process (no network: the wrk figures
// in docs/benchmarks.md include it).
//
//	go test ./internal/web/beacon -run '^$' -bench Beacon -benchtime 3s -count 6
func BenchmarkBeacon(b *testing.B) {
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	d := testutil.SQLite(b)
	w := newBenchWorld(b, d)
	var seq atomic.Int64
	run := func(b *testing.B, h http.Handler) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				body := fmt.Sprintf(`{"t":"v","id":"%016x","p":"/products/mailguard","r":"https://news.example.org/x","w":1280}`, n)
				req := httptest.NewRequest(http.MethodPost, beacon.Endpoint, strings.NewReader(body))
				req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
				req.Header.Set("Origin", webtest.BaseURL)
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				req.Header.Set("User-Agent", firefox)
				req.RemoteAddr = fmt.Sprintf("198.51.%d.%d:1234", n/250%250, n%250)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusNoContent {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
	b.Run("bare", func(b *testing.B) { run(b, bare) })
	b.Run("storekeep", func(b *testing.B) { run(b, w.s.Srv.Handler()) })
	b.StopTimer()
	if m := w.c.Outcomes(); m["counted"] == 0 {
		b.Fatalf("nothing counted: %v", m)
	}
}
