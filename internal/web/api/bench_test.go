package api_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
	"github.com/storekeep/storekeep/sdk/go/httpsig"
)

// BenchmarkValidateStack is a validation by key through the whole
// assembled site in one process (middleware, decoding, the domain on
// SQLite, the signed answer), next to BenchmarkValidateBare, a handler
// that only signs an answer of the same size as the API signs it: the
// CPU cost per request without the network and without wrk sharing the
// cores. Profile with -cpuprofile; bench/license.sh measures over HTTP.
//
//	go test -run '^$' -bench 'Validate(Stack|Bare)' -benchtime 3s ./internal/web/api/
func BenchmarkValidateStack(b *testing.B) {
	d := testutil.SQLite(b)
	s := webtest.NewSite(b, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
	f := newFixture(b, s)
	var keys []string
	for range 200 {
		keys = append(keys, f.issue(b, licensing.Policy{Kind: licensing.Perpetual, MaxMachines: 3}).Key)
	}
	bodies := make([][]byte, len(keys))
	for i, k := range keys {
		bodies[i] = fmt.Appendf(nil, `{"key":%q,"nonce":"nonce-bench-%012d"}`, k, i)
	}
	// One check that the benchmark measures valid answers.
	rec := httptest.NewRecorder()
	s.H.ServeHTTP(rec, validateRequest(bodies[0], 0))
	if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"VALID"`)) {
		b.Fatalf("validate answered %d %s", rec.Code, rec.Body)
	}
	size := rec.Body.Len()
	b.ReportMetric(float64(size), "answer-bytes")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			rec := httptest.NewRecorder()
			s.H.ServeHTTP(rec, validateRequest(bodies[i%len(bodies)], i))
			if rec.Code != http.StatusOK {
				b.Errorf("validate answered %d", rec.Code)
				return
			}
			i++
		}
	})
}

func validateRequest(body []byte, i int) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/licenses/validate", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = "192.0.2." + strconv.Itoa(1+i%200) + ":4000"
	return req
}

// BenchmarkValidateBare is the baseline of BenchmarkValidateStack: read
// the request, sign a fixed answer of about the API's size with the SDK's
// httpsig, the API's own signing code, and write it.
func BenchmarkValidateBare(b *testing.B) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	answer := bytes.Repeat([]byte("x"), 330)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		now := time.Now()
		if err := httpsig.SignResponse(w.Header(), http.StatusOK, answer, "nonce-bench-000000000000", now.UTC().Format(http.TimeFormat), now.Unix(), "kid", priv); err != nil {
			http.Error(w, "sign", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	})
	body := []byte(`{"key":"SK1.` + string(bytes.Repeat([]byte("k"), 330)) + `","nonce":"nonce-bench-000000000000"}`)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, validateRequest(body, i))
			i++
		}
	})
}
