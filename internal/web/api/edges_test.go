package api_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/api"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

var (
	notFoundOnce sync.Once
	notFoundResp *v3.Response
)

// notFoundResponse is the document's NotFound response: what an address
// the document does not describe answers.
func notFoundResponse(t testing.TB) *v3.Response {
	t.Helper()
	notFoundOnce.Do(func() {
		doc, err := libopenapi.NewDocument(api.OpenAPI())
		if err != nil {
			t.Fatal(err)
		}
		m, err := doc.BuildV3Model()
		if err != nil {
			t.Fatal(err)
		}
		notFoundResp = m.Model.Components.Responses.GetOrZero("NotFound")
	})
	if notFoundResp == nil {
		t.Fatal("the OpenAPI document has no NotFound response")
	}
	return notFoundResp
}

// checkNotFound checks a 404 answer against the document's NotFound
// response: its headers and the schema of its body.
func checkNotFound(t testing.TB, what string, res *http.Response, body []byte) {
	t.Helper()
	nf := notFoundResponse(t)
	for name, h := range nf.Headers.FromOldest() {
		if _, ok := res.Header[http.CanonicalHeaderKey(name)]; h.Required && !ok {
			t.Errorf("%s: 404 answer without the %s header the document requires", what, name)
		}
	}
	mt := nf.Content.GetOrZero("application/json")
	if mt == nil || mt.Schema == nil {
		t.Fatal("the NotFound response has no JSON schema")
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: 404 answer of type %q", what, ct)
	}
	if ok, errs := schema_validation.NewSchemaValidator().ValidateSchemaBytes(mt.Schema.Schema(), body); !ok {
		for _, e := range errs {
			t.Errorf("%s: 404 answer does not match the document's NotFound response: %s: %s", what, e.Message, e.Reason)
		}
		t.FailNow()
	}
}

// TestEveryAnswerIsTheAPIs: whatever arrives under /api/v1 or at the
// published keys (the prefix without its slash, an address the router
// would clean and redirect, another method, a body that is not JSON or is
// too large) is answered in the API's JSON shape, signed, as the OpenAPI
// document describes it; never a redirect or a page of the site.
func TestEveryAnswerIsTheAPIs(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t), webtest.WithLicenseKeys(webtest.LicenseKeys))
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		allow        string
		message      string // a part of the message
	}{
		{"GET", "/api/v1", nil, 404, "", "openapi.json"},
		{"POST", "/api/v1", obj{}, 404, "", "openapi.json"},
		{"GET", "/api/v1/", nil, 404, "", "openapi.json"},
		{"GET", "/api/v1/licenses", nil, 404, "", "openapi.json"},
		{"POST", "/api/v1/licenses/validate/", obj{}, 404, "", "openapi.json"},
		{"POST", "/api/v1//licenses/validate", obj{}, 404, "", "segment"},
		{"POST", "/api/v1/licenses/../licenses/validate", obj{}, 404, "", "segment"},
		{"GET", "/api/v1/./openapi.json", nil, 404, "", "segment"},
		{"GET", "/api/v1/openapi.json/..", nil, 404, "", "segment"},
		{"GET", "/api/v1/licenses/validate", nil, 405, "POST", "POST"},
		{"PUT", "/api/v1/openapi.json", nil, 405, "GET, HEAD", "GET"},
		{"POST", "/api/v1/licenses/validate", "{bad", 400, "", "not JSON"},
		{"POST", "/api/v1/machines/activate", `{"key": "` + strings.Repeat("x", 20<<10) + `"}`, 400, "", "larger"},
		{"POST", api.KeysPath, nil, 405, "GET, HEAD", "GET"},
		{"DELETE", api.KeysPath, nil, 405, "GET, HEAD", "GET"},
		{"GET", api.KeysPath + "/", nil, 404, "", "openapi.json"},
	} {
		what := c.method + " " + c.path
		var raw []byte
		switch b := c.body.(type) {
		case string:
			raw = []byte(b)
		case obj:
			raw = []byte("{}")
		}
		req := httptest.NewRequest(c.method, "http://storekeep.example"+c.path, bytes.NewReader(raw))
		req.URL.Path, req.URL.RawPath = c.path, "" // as sent, not cleaned
		if c.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		s.H.ServeHTTP(rec, req)
		res := rec.Result()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != c.status {
			t.Errorf("%s: %d (Location %q), want %d\n%s", what, res.StatusCode, res.Header.Get("Location"), c.status, body)
			continue
		}
		if c.status == 404 {
			// Not described by the document (no address is): checked
			// against its NotFound response, and signed.
			checkNotFound(t, what, res, body)
			v, err := verifyAnswer(res.StatusCode, res.Header, body, webtest.LicenseKeys.PublicKey)
			if err != nil || v.KeyID != webtest.LicenseKeys.ActiveKID() {
				t.Errorf("%s: 404 not signed: %+v %v", what, v, err)
			}
		} else {
			// send checks the signature, the nonce and the document.
			got := send(t, s, c.method, c.path, c.body, nil, "", "")
			res, body = got.res, got.body
		}
		if res.Header.Get("Allow") != c.allow {
			t.Errorf("%s: Allow %q, want %q", what, res.Header.Get("Allow"), c.allow)
		}
		if !strings.Contains(string(body), `"code":"BAD_REQUEST"`) || !strings.Contains(string(body), c.message) {
			t.Errorf("%s: answer %s, want BAD_REQUEST saying %q", what, body, c.message)
		}
	}
}

// TestHEADOfTheKeys: HEAD of a GET address answers its headers, and they
// are signed over the body a GET gets (RFC 9530: the digest is of the
// representation), so nothing in them can be trusted less than in GET.
func TestHEADOfTheKeys(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t), webtest.WithLicenseKeys(webtest.LicenseKeys))
	for _, path := range []string{api.KeysPath, "/api/v1/openapi.json"} {
		get := send(t, s, http.MethodGet, path, nil, nil, "", "")
		rec := httptest.NewRecorder()
		s.H.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, path, nil))
		if rec.Code != 200 || rec.Body.Len() != 0 {
			t.Fatalf("HEAD %s: %d with %d bytes", path, rec.Code, rec.Body.Len())
		}
		if _, err := verifyAnswer(200, rec.Result().Header, get.body, webtest.LicenseKeys.PublicKey); err != nil {
			t.Fatalf("HEAD %s: the headers do not verify over the GET body: %v", path, err)
		}
	}
}

// TestKeysRefusedCrossSite: the core's cross-site refusal of the
// published keys is signed JSON too, not the site's page.
func TestKeysRefusedCrossSite(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t), webtest.WithLicenseKeys(webtest.LicenseKeys))
	req := httptest.NewRequest(http.MethodPost, api.KeysPath, strings.NewReader("{}"))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	rec := httptest.NewRecorder()
	s.H.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	if rec.Code != 403 || !strings.Contains(string(body), `"code":"BAD_REQUEST"`) {
		t.Fatalf("cross-site POST of the keys: %d %s", rec.Code, body)
	}
	if _, err := verifyAnswer(403, rec.Result().Header, body, webtest.LicenseKeys.PublicKey); err != nil {
		t.Fatalf("cross-site refusal not signed: %v", err)
	}
}
