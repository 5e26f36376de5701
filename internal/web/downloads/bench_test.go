package downloads_test

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// benchSize is the artifact of the download benchmark (the issue's
// figure); STOREKEEP_BENCH_DOWNLOAD_MB changes it.
func benchSize() int64 {
	if v, err := strconv.Atoi(os.Getenv("STOREKEEP_BENCH_DOWNLOAD_MB")); err == nil && v > 0 {
		return int64(v) << 20
	}
	return 200 << 20
}

// BenchmarkDownload compares a licensed download through the whole site
// (signed link checked, license read and checked, the download logged,
// the file streamed by downloads.Serve) with net/http's ServeFile of the
// same stored file, over loopback, in the same run. Peak heap growth
// during the run is reported as heap-MB: flat means the file never sits
// in memory.
//
//	go test -run '^$' -bench Download -benchtime 10x ./internal/web/downloads/
func BenchmarkDownload(b *testing.B) {
	d := testutil.SQLite(b)
	s, rs := webtest.ReleaseSite(b, d)
	_, c := webtest.SignedInCustomer(b, s, "bench@example.com")
	l := webtest.IssueLicense(b, s, c.ID, "standard", false)
	size := benchSize()
	rs.MaxSize = size + 1
	ctx := context.Background()
	rel, err := rs.Create(ctx, audit.System(), releases.NewRelease{Product: "mailguard", Version: "9.0.0"})
	if err != nil {
		b.Fatal(err)
	}
	a, err := rs.AddArtifact(ctx, audit.System(), rel.ID, releases.NewArtifact{FileName: "big.bin", Content: io.LimitReader(rand.Reader, size)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := rs.Publish(ctx, audit.System(), rel.ID); err != nil {
		b.Fatal(err)
	}
	blob, err := rs.Store.Open(ctx, a.StoreKey)
	if err != nil {
		b.Fatal(err)
	}
	path := blob.(interface{ OSFile() *os.File }).OSFile().Name()
	blob.Close()

	site := httptest.NewServer(s.H)
	defer site.Close()
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, path) }))
	defer bare.Close()
	link := site.URL + downloads.NewLinks(s.Srv.Secret()).Path(a, downloads.Grant{Kind: downloads.ByLicense, ID: l.ID}, s.Clock.Now().Add(time.Hour))

	get := func(b *testing.B, url string) {
		res, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil || n != size || res.StatusCode != http.StatusOK {
			b.Fatalf("got %d bytes, status %d: %v", n, res.StatusCode, err)
		}
	}
	for _, bc := range []struct {
		name, url string
	}{{"ServeFile", bare.URL + "/big.bin"}, {"Storekeep", link}} {
		b.Run(bc.name, func(b *testing.B) {
			get(b, bc.url) // warm the page cache and the connection pool
			runtime.GC()
			var before, peak runtime.MemStats
			runtime.ReadMemStats(&before)
			b.SetBytes(size)
			b.ResetTimer()
			for b.Loop() {
				get(b, bc.url)
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.HeapInuse {
					peak = m
				}
			}
			b.StopTimer()
			grow := float64(0)
			if peak.HeapInuse > before.HeapInuse {
				grow = float64(peak.HeapInuse-before.HeapInuse) / (1 << 20)
			}
			b.ReportMetric(grow, "heap-MB")
		})
	}
}
