package site_test

import (
	"net/http/httptest"
	"testing"

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
