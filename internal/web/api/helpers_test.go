package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web/api"
	"github.com/storekeep/storekeep/internal/web/webtest"
	"github.com/storekeep/storekeep/sdk/go/httpsig"
)

func TestMain(m *testing.M) { webtest.Main(m) }

// answer is an answer's body as a client reads it.
type answer struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Nonce   string `json:"nonce"`
	License *struct {
		License     string   `json:"lic"`
		Product     string   `json:"prd"`
		Edition     string   `json:"ed"`
		Ent         []string `json:"ent"`
		Exp         int64    `json:"exp"`
		Max         int      `json:"max"`
		State       string   `json:"st"`
		Grace       int64    `json:"grace"`
		KID         string   `json:"kid"`
		IssuedAt    int64    `json:"iat"`
		UpdateUntil int64    `json:"upd"`
	} `json:"license"`
	Machine *struct {
		ID          int64 `json:"id"`
		ActivatedAt int64 `json:"activated_at"`
		LastCheckIn int64 `json:"last_check_in"`
	} `json:"machine"`
	File string `json:"file"`
}

var (
	docOnce sync.Once
	docV    validator.Validator
)

// openAPI is a validator of the document the binary serves.
func openAPI(t testing.TB) validator.Validator {
	t.Helper()
	docOnce.Do(func() {
		doc, err := libopenapi.NewDocument(api.OpenAPI())
		if err != nil {
			t.Fatalf("OpenAPI document: %v", err)
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			t.Fatalf("OpenAPI validator: %v", errs)
		}
		if ok, verrs := v.ValidateDocument(); !ok {
			for _, e := range verrs {
				t.Errorf("OpenAPI document: %s: %s", e.Message, e.Reason)
			}
			t.FailNow()
		}
		docV = v
	})
	if docV == nil {
		t.Fatal("no OpenAPI validator")
	}
	return docV
}

// call is one request to the API and what came back.
type call struct {
	res  *http.Response
	body []byte
	ans  answer
}

// send sends a request with body (a string as it is, anything else as
// JSON) from network addr (host:port; "" is httptest's 192.0.2.1), and
// checks what every answer must be: signed by the active key over the
// status, digest, date and nonce, the nonce the one sent (wantNonce), the
// signature's time the clock's, never cached, and as the OpenAPI document
// describes it.
func send(t testing.TB, s *webtest.Site, method, path string, body any, hdr http.Header, addr, wantNonce string) call {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if addr != "" {
		req.RemoteAddr = addr
	}
	rec := httptest.NewRecorder()
	s.H.ServeHTTP(rec, req)
	c := call{res: rec.Result()}
	if method == http.MethodPost && rec.Code == http.StatusOK {
		// What the server took, the document describes.
		again := req.Clone(req.Context())
		again.Body = io.NopCloser(bytes.NewReader(raw))
		if ok, errs := openAPI(t).ValidateHttpRequest(again); !ok {
			for _, e := range errs {
				t.Errorf("%s %s: the request taken does not match the OpenAPI document: %s: %s", method, path, e.Message, e.Reason)
				for _, se := range e.SchemaValidationErrors {
					t.Errorf("  %s: %s", se.FieldPath, se.Reason)
				}
			}
			t.FailNow()
		}
	}
	c.body, _ = io.ReadAll(c.res.Body)
	checkAnswer(t, s, req, c.res, c.body, wantNonce)
	if c.res.Header.Get("Content-Type") == "application/json; charset=utf-8" && !(path == "/api/v1/openapi.json" && c.res.StatusCode == http.StatusOK) {
		if err := json.Unmarshal(c.body, &c.ans); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, c.body)
		}
		if c.ans.Nonce != wantNonce {
			t.Fatalf("%s %s: body nonce %q, want %q", method, path, c.ans.Nonce, wantNonce)
		}
	}
	return c
}

// checkAnswer is what send checks of every answer.
func checkAnswer(t testing.TB, s *webtest.Site, req *http.Request, res *http.Response, body []byte, wantNonce string) {
	t.Helper()
	what := req.Method + " " + req.URL.Path
	v, err := verifyAnswer(res.StatusCode, res.Header, body, webtest.LicenseKeys.PublicKey)
	if err != nil {
		t.Fatalf("%s: %d answer not verified: %v\n%s", what, res.StatusCode, err, body)
	}
	if v.KeyID != webtest.LicenseKeys.ActiveKID() || v.Nonce != wantNonce || !v.Created.Equal(s.Clock.Now().Truncate(1e9)) {
		t.Fatalf("%s: signature says %+v; want key %s, nonce %q, created %s", what, v, webtest.LicenseKeys.ActiveKID(), wantNonce, s.Clock.Now())
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("%s: Cache-Control %q", what, cc)
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	if res.StatusCode == http.StatusMethodNotAllowed {
		// The document describes a 405 with the operation the address
		// has: look it up by that method.
		m, _, _ := strings.Cut(res.Header.Get("Allow"), ",")
		req = req.Clone(req.Context())
		req.Method = m
	}
	if ok, errs := openAPI(t).ValidateHttpResponse(req, res); !ok {
		for _, e := range errs {
			t.Errorf("%s: %d answer does not match the OpenAPI document: %s: %s", what, res.StatusCode, e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s: %s", se.FieldPath, se.Reason)
			}
		}
		t.FailNow()
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
}

// post sends a JSON body to an endpoint and checks the answer's status
// and code.
func post(t testing.TB, s *webtest.Site, path string, body any, status int, code string) answer {
	t.Helper()
	nonce := ""
	if m, ok := body.(map[string]any); ok {
		nonce, _ = m["nonce"].(string)
	}
	c := send(t, s, http.MethodPost, path, body, nil, "", nonce)
	wantAnswer(t, c, status, code)
	return c.ans
}

func wantAnswer(t testing.TB, c call, status int, code string) {
	t.Helper()
	if c.res.StatusCode != status || c.ans.Code != code {
		t.Fatalf("answer %d %s, want %d %s\n%s", c.res.StatusCode, c.ans.Code, status, code, c.body)
	}
	if c.ans.Message == "" {
		t.Fatalf("answer %s without a message", c.ans.Code)
	}
}

var nonces int

// nonce is a new nonce of the allowed shape.
func nonce() string {
	nonces++
	return fmt.Sprintf("nonce-%012d", nonces)
}

// fixture is a site with a customer, an owner and the Professional
// edition of Mailguard.
type fixture struct {
	s        *webtest.Site
	ownerID  int64
	customer customers.Customer
	edition  int64
}

func newFixture(t testing.TB, s *webtest.Site) *fixture {
	t.Helper()
	f := &fixture{s: s}
	f.ownerID = webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, false).Account.ID
	ctx := context.Background()
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT id FROM editions WHERE slug = 'professional'`).Scan(&f.edition); err != nil {
			return err
		}
		raw, err := customers.RequestSignIn(ctx, tx, "buyer@example.com", s.Clock.Now())
		if err != nil {
			return err
		}
		f.customer, _, err = customers.CompleteSignIn(ctx, tx, raw, s.Clock.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// issue issues a license of the Professional edition under p.
func (f *fixture) issue(t testing.TB, p licensing.Policy) licensing.License {
	t.Helper()
	ctx := context.Background()
	p.EditionID = f.edition
	if _, err := licensing.SavePolicy(ctx, f.s.DB, f.ownerID, p, f.s.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	l, err := licensing.Issue(ctx, f.s.DB, webtest.LicenseKeys, f.ownerID,
		licensing.ManualIssue{CustomerID: f.customer.ID, EditionID: f.edition, Quantity: 1}, "test", f.s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// machines counts the seats held.
func machines(t testing.TB, s *webtest.Site) int {
	t.Helper()
	return webtest.Count(t, s.DB, `SELECT count(*) FROM license_machines`)
}

// state is everything the API could change, to show a refusal changed
// nothing.
func state(t testing.TB, s *webtest.Site) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT count(*) FROM license_machines`,
		`SELECT count(*) FROM licenses`,
		`SELECT count(*) FROM licenses WHERE status <> 'active'`,
		`SELECT count(*) FROM audit_log`,
	} {
		fmt.Fprintf(&b, "%d ", webtest.Count(t, s.DB, q))
	}
	return b.String()
}

// verified is what an answer's signature says.
type verified struct {
	KeyID   string
	Created time.Time
	Nonce   string // the answer's Storekeep-Nonce
}

// verifyAnswer checks an answer's digest and signature with the SDK's
// httpsig, the code the product runs.
func verifyAnswer(status int, h http.Header, body []byte, key func(kid string) (ed25519.PublicKey, bool)) (verified, error) {
	sig, err := httpsig.VerifyResponse(status, h, body, key)
	if err != nil {
		return verified{}, err
	}
	return verified{KeyID: sig.KeyID, Created: time.Unix(sig.Created, 0).UTC(), Nonce: h.Get(httpsig.NonceHeader)}, nil
}
