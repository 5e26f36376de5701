package api_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/app"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// BenchmarkFraudLicenseAPI measures what the fraud signals cost the
// license API: validation and check-in through the whole site on SQLite,
// without and with the observer (docs/benchmarks.md, "Fraud signals").
// Validation records nothing; a check-in queues one observation.
//
//	go test -run '^$' -bench FraudLicenseAPI -count 6 ./internal/web/api/
func BenchmarkFraudLicenseAPI(b *testing.B) {
	for _, with := range []bool{false, true} {
		name := "without"
		if with {
			name = "with"
		}
		d := testutil.SQLite(b)
		opts := []webtest.Option{webtest.WithLicenseKeys(webtest.LicenseKeys)}
		var obs *detect.Observer
		if with {
			obs = detect.NewObserver(d, []byte("bench secret"), nil, slog.New(slog.DiscardHandler))
			b.Cleanup(func() { _ = obs.Close(context.Background()) })
			opts = append(opts, func(o *app.Options) { o.Fraud.Observer = obs })
		}
		s := webtest.NewSite(b, d, opts...)
		f := newFixture(b, s)
		var validate, checkIns [][]byte
		for i := range 200 {
			k := f.issue(b, licensing.Policy{Kind: licensing.Perpetual, MaxMachines: 3}).Key
			validate = append(validate, fmt.Appendf(nil, `{"key":%q,"nonce":"nonce-bench-%012d"}`, k, i))
			act := fmt.Appendf(nil, `{"key":%q,"fingerprint":"bench-machine-%d","nonce":"nonce-act-%012d"}`, k, i, i)
			rec := httptest.NewRecorder()
			s.H.ServeHTTP(rec, apiRequest("/api/v1/machines/activate", act, i))
			if rec.Code != http.StatusOK {
				b.Fatalf("activate answered %d %s", rec.Code, rec.Body)
			}
			checkIns = append(checkIns, fmt.Appendf(nil, `{"key":%q,"fingerprint":"bench-machine-%d","nonce":"nonce-ci-%012d"}`, k, i, i))
		}
		for _, ep := range []struct {
			name, path string
			bodies     [][]byte
			want       string
		}{{"validate", "/api/v1/licenses/validate", validate, `"VALID"`}, {"check-in", "/api/v1/machines/check-in", checkIns, `"VALID"`}} {
			b.Run(ep.name+"/"+name, func(b *testing.B) {
				rec := httptest.NewRecorder()
				s.H.ServeHTTP(rec, apiRequest(ep.path, ep.bodies[0], 0))
				if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(ep.want)) {
					b.Fatalf("%s answered %d %s", ep.name, rec.Code, rec.Body)
				}
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						rec := httptest.NewRecorder()
						s.H.ServeHTTP(rec, apiRequest(ep.path, ep.bodies[i%len(ep.bodies)], i))
						if rec.Code != http.StatusOK {
							b.Errorf("%s answered %d", ep.name, rec.Code)
							return
						}
						i++
					}
				})
				b.StopTimer()
				if obs != nil {
					if err := obs.Flush(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func apiRequest(path string, body []byte, i int) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	// A network per license: activations are limited per network.
	req.RemoteAddr = "198.18." + strconv.Itoa(i%200) + ".1:4000"
	return req
}
