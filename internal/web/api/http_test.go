package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/api"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestDocumentAndKeys: the OpenAPI document and the public keys are
// served, signed; the keys are the public ones only.
func TestDocumentAndKeys(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t), webtest.WithLicenseKeys(webtest.LicenseKeys))
	c := send(t, s, http.MethodGet, "/api/v1/openapi.json", nil, nil, "", "")
	if c.res.StatusCode != 200 || !bytes.Equal(c.body, api.OpenAPI()) {
		t.Fatalf("openapi.json: %d", c.res.StatusCode)
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(c.body, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("document: %q, %v", doc.OpenAPI, err)
	}
	// Every route of the API is described, and nothing else.
	var described []string
	for p := range doc.Paths {
		described = append(described, p)
	}
	for _, pattern := range s.Srv.Patterns() {
		_, path, _ := strings.Cut(pattern, " ")
		if (strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/.well-known/")) && path != api.Prefix && doc.Paths[path] == nil {
			t.Errorf("route %s is not in the OpenAPI document", pattern)
		}
	}
	if len(described) != 8 {
		t.Errorf("the document describes %d paths, want 8: %v", len(described), described)
	}

	// The keys are served outside /api/v1 and signed too.
	c = send(t, s, http.MethodGet, "/.well-known/storekeep-license-keys.json", nil, nil, "", "")
	var keys struct {
		Keys []struct{ KID, Alg, Public_Key string }
	}
	if err := json.Unmarshal(c.body, &keys); err != nil || len(keys.Keys) != 1 {
		t.Fatalf("keys: %v %s", err, c.body)
	}
	k := keys.Keys[0]
	pub, _ := webtest.LicenseKeys.PublicKey(webtest.LicenseKeys.ActiveKID())
	if k.KID != webtest.LicenseKeys.ActiveKID() || k.Alg != "Ed25519" || k.Public_Key != base64.RawURLEncoding.EncodeToString(pub) {
		t.Fatalf("keys: %+v", k)
	}
	priv := webtest.LicenseKeys.Signer().Priv
	for _, secret := range [][]byte{priv, priv.Seed()} {
		for _, enc := range []string{base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret), fmt.Sprintf("%x", secret)} {
			if strings.Contains(string(c.body), enc) {
				t.Fatal("the published keys hold the private key")
			}
		}
	}
	if len(c.body) > 200 {
		t.Fatalf("the published keys hold more than one public key: %s", c.body)
	}
}

// TestCoreAnswersAreSigned: what the core answers under /api/v1 (unknown
// addresses, other methods, requests refused as cross-site) is signed
// like the API's own answers and matches the document.
func TestCoreAnswersAreSigned(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t), webtest.WithLicenseKeys(webtest.LicenseKeys))
	c := send(t, s, http.MethodGet, "/api/v1/licenses/validate", nil, nil, "", "")
	wantAnswer(t, c, 405, "BAD_REQUEST")
	if c.res.Header.Get("Allow") != "POST" {
		t.Fatalf("Allow %q", c.res.Header.Get("Allow"))
	}
	c = send(t, s, http.MethodDelete, "/api/v1/openapi.json", nil, nil, "", "")
	wantAnswer(t, c, 405, "BAD_REQUEST")

	// An unknown address is not in the document; the answer is signed.
	req := httptest.NewRequest(http.MethodGet, "/api/v1/licenses", nil)
	rec := httptest.NewRecorder()
	s.H.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	if rec.Code != 404 || !strings.Contains(string(body), `"code":"BAD_REQUEST"`) {
		t.Fatalf("unknown address: %d %s", rec.Code, body)
	}
	if _, err := verifyAnswer(404, rec.Result().Header, body, webtest.LicenseKeys.PublicKey); err != nil {
		t.Fatalf("404 not signed: %v", err)
	}

	// A browser posting from another site is refused by the core's
	// cross-origin protection: signed, 403.
	good := obj{"key": "SK1.a.b", "nonce": "nonce-0123456789ab"}
	c = send(t, s, http.MethodPost, "/api/v1/licenses/validate", good,
		http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}, "", "")
	wantAnswer(t, c, 403, "BAD_REQUEST")
	// A product (no Origin, no Sec-Fetch-Site) and a request from the
	// site's own origin pass it.
	post(t, s, "/api/v1/licenses/validate", good, 200, "INVALID_KEY")
	c = send(t, s, http.MethodPost, "/api/v1/licenses/validate", good, http.Header{"Origin": {webtest.BaseURL}}, "", "nonce-0123456789ab")
	wantAnswer(t, c, 200, "INVALID_KEY")
}

// TestNoPageCache: answers are made for each request (a new date and
// signature as the clock moves), never kept.
func TestNoPageCache(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t), webtest.WithLicenseKeys(webtest.LicenseKeys))
	a := send(t, s, http.MethodGet, "/api/v1/openapi.json", nil, nil, "", "")
	s.Clock.Advance(61e9)
	b := send(t, s, http.MethodGet, "/api/v1/openapi.json", nil, nil, "", "")
	if a.res.Header.Get("Date") == b.res.Header.Get("Date") || a.res.Header.Get("Signature") == b.res.Header.Get("Signature") {
		t.Fatal("the second answer is the first one again")
	}
}

// TestParallelActivationsOverHTTP: N products activating a license limited
// to k machines at once, over real connections, leave exactly k machines;
// on PostgreSQL the requests are spread over two instances.
func TestParallelActivationsOverHTTP(t *testing.T) {
	const n, k = 16, 3
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
		f := newFixture(t, s)
		l := f.issue(t, licensing.Policy{Kind: licensing.Perpetual, MaxMachines: k})
		servers := []*httptest.Server{httptest.NewServer(s.H)}
		if d.Dialect == db.Postgres {
			servers = append(servers, httptest.NewServer(s.Another(t, webtest.WithLicenseKeys(webtest.LicenseKeys)).H))
		}
		for _, srv := range servers {
			defer srv.Close()
		}
		codes := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				nonce := fmt.Sprintf("parallel-nonce-%04d", i)
				body, _ := json.Marshal(obj{"key": l.Key, "fingerprint": fmt.Sprintf("machine-%d", i), "nonce": nonce})
				res, err := http.Post(servers[i%len(servers)].URL+"/api/v1/machines/activate", "application/json", bytes.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				v, err := verifyAnswer(res.StatusCode, res.Header, b, webtest.LicenseKeys.PublicKey)
				if err != nil || v.Nonce != nonce {
					t.Errorf("answer %d not verified: %v %+v", i, err, v)
				}
				var a answer
				_ = json.Unmarshal(b, &a)
				codes[i] = a.Code
			}()
		}
		wg.Wait()
		count := map[string]int{}
		for _, c := range codes {
			count[c]++
		}
		if count["VALID"] != k || count["TOO_MANY_MACHINES"] != n-k {
			t.Fatalf("answers %v, want %d VALID and %d TOO_MANY_MACHINES", count, k, n-k)
		}
		if m := webtest.Count(t, d, `SELECT count(*) FROM license_machines WHERE license_id = $1`, l.ID); m != k {
			t.Fatalf("%d machines, want exactly %d", m, k)
		}
	})
}

// TestFailureIsSigned: a failure of ours (the database gone) is a signed
// 500 INTERNAL_ERROR as the document describes, its cause only logged.
func TestFailureIsSigned(t *testing.T) {
	d := testutil.SQLite(t)
	s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
	f := newFixture(t, s)
	l := f.issue(t, licensing.Policy{Kind: licensing.Perpetual, MaxMachines: 1})
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	c := send(t, s, http.MethodPost, validate, obj{"key": l.Key, "nonce": "nonce-0123456789ab"}, nil, "", "nonce-0123456789ab")
	wantAnswer(t, c, 500, "INTERNAL_ERROR")
	if strings.Contains(string(c.body), "closed") || !strings.Contains(s.Logs.String(), "internal error") {
		t.Fatalf("the cause is shown or not logged: %s", c.body)
	}
}

// TestNoKeysNoAPI: a site without license signing keys has no API (it
// could not sign an answer).
func TestNoKeysNoAPI(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	res, body := s.Get(t, "/.well-known/storekeep-license-keys.json")
	if res.StatusCode != 404 {
		t.Fatalf("keys without a keyring: %d %s", res.StatusCode, body)
	}
	res = s.Do(t, http.MethodPost, validate, http.Header{"Content-Type": {"application/json"}}, strings.NewReader(`{}`))
	if res.StatusCode != 404 || res.Header.Get("Signature") != "" {
		t.Fatalf("API without a keyring: %d", res.StatusCode)
	}
}

// TestEmptyNonceOverTheWire: an answer without a nonce (the request had
// none readable) keeps its empty Storekeep-Nonce through a real
// connection, and verifies there.
func TestEmptyNonceOverTheWire(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t), webtest.WithLicenseKeys(webtest.LicenseKeys))
	srv := httptest.NewServer(s.H)
	defer srv.Close()
	res, err := http.Post(srv.URL+"/api/v1/licenses/validate", "application/json", strings.NewReader(`{"key":`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if vs, ok := res.Header["Storekeep-Nonce"]; !ok || len(vs) != 1 || vs[0] != "" {
		t.Fatalf("Storekeep-Nonce %q", vs)
	}
	if v, err := verifyAnswer(res.StatusCode, res.Header, body, webtest.LicenseKeys.PublicKey); err != nil || res.StatusCode != 400 || v.Nonce != "" {
		t.Fatalf("%d %+v %v", res.StatusCode, v, err)
	}
}
