package site_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/storekeep/storekeep/internal/requestlog"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// BenchmarkPages renders the home and a product page through the whole
// handler chain on SQLite, to compare their costs (bench/web.sh measures
// them over HTTP).
func BenchmarkPages(b *testing.B) {
	for _, target := range []string{"/", "/products/mailguard", "/pricing"} {
		b.Run(target, func(b *testing.B) {
			s := webtest.NewSite(b, testutil.SQLite(b))
			for b.Loop() {
				rec := httptest.NewRecorder()
				s.H.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
				if rec.Code != 200 {
					b.Fatalf("%s: %d", target, rec.Code)
				}
			}
		})
	}
}

// BenchmarkHomeRequestLog serves the home page over loopback HTTP to
// parallel clients (b.RunParallel, keep-alive, a browser's user agent and
// an external referrer) with the request log off and on, on one SQLite
// file: the cost of logging every page request, writer included
// (docs/benchmarks.md, "Request log: cost on page throughput"). Run with
// -count to interleave the two.
func BenchmarkHomeRequestLog(b *testing.B) {
	for _, logged := range []bool{false, true} {
		name := "off"
		if logged {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			d := testutil.SQLite(b)
			var opts []webtest.Option
			var rl *requestlog.Logger
			if logged {
				rl = requestlog.New(d, requestlog.Options{Site: webtest.BaseURL})
				opts = append(opts, webtest.WithRequestLog(rl))
			}
			s := webtest.NewSite(b, d, opts...)
			srv := httptest.NewServer(s.H)
			defer srv.Close()
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			b.SetParallelism(16) // 16 × GOMAXPROCS clients
			b.ResetTimer()
			cpu0 := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", srv.URL+"/", nil)
					req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
					req.Header.Set("Referer", "https://news.example.org/story")
					res, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					_ = res.Body.Close()
					if res.StatusCode != 200 {
						b.Errorf("status %d", res.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			// The process's CPU time per request (server, clients and
			// the log's writer alike): steadier than req/s on a machine
			// that others share, since time taken by other processes is
			// not counted.
			if cpu := processCPU() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
			}
			if rl != nil {
				if err := rl.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
				var rows int
				if err := d.QueryRowContext(context.Background(), `SELECT count(*) FROM request_log`).Scan(&rows); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(rl.Dropped()), "dropped")
				b.ReportMetric(float64(rows), "rows")
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
