package repos_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/testutil"
)

// BenchmarkYUMRepodata serves the YUM metadata of a product with 1,000
// published package versions (each an nfpm-built .rpm uploaded through
// the release domain) to one license, on SQLite: repomd.xml, and the
// first request for a new set of packages, which also generates the
// metadata (a release published in between changes the set). Run with
//
//	go test -run '^$' -bench YUMRepodata -benchtime 50x ./internal/web/repos/
func BenchmarkYUMRepodata(b *testing.B) {
	w := newYUMWorld(b, testutil.SQLite(b))
	start := time.Now()
	for i := range 1000 {
		v := fmt.Sprintf("%d.%d.%d", 1+i/100, i/10%10, i%10)
		w.publish(b, v, releases.Stable, rpmFile(b, v))
		w.s.Clock.Set(w.s.Clock.Now().Add(time.Minute))
	}
	b.Logf("published 1,000 releases in %s", time.Since(start).Round(time.Millisecond))
	fetch := func(b *testing.B, path string) int {
		res, body := w.get(b, path, w.lic.Key)
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
		return len(body)
	}
	_, repomd := w.get(b, "/yum/mailguard/stable/repodata/repomd.xml", w.lic.Key)
	i := strings.Index(repomd, "repodata/")
	primary := repomd[i : strings.Index(repomd, "-primary.xml.gz")+len("-primary.xml.gz")]

	b.Run("repomd.xml", func(b *testing.B) {
		for b.Loop() {
			fetch(b, "/yum/mailguard/stable/repodata/repomd.xml")
		}
	})
	b.Run("primary.xml.gz", func(b *testing.B) {
		var n int
		for b.Loop() {
			n = fetch(b, "/yum/mailguard/stable/"+primary)
		}
		b.ReportMetric(float64(n), "bytes")
	})
	// Each round, drop the newest release from what the license sees (its
	// updates end a minute earlier), so the set is new and the metadata is
	// built. until lives outside the sub-benchmark, which may be called
	// more than once: each call must see sets never cached.
	until := w.s.Clock.Now()
	b.Run("generated", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			until = until.Add(-time.Minute)
			if _, err := w.s.DB.ExecContext(context.Background(), `UPDATE licenses SET updates_until = $1 WHERE id = $2`, until.UTC(), w.lic.ID); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			fetch(b, "/yum/mailguard/stable/repodata/repomd.xml")
		}
	})
}
