package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
	license "github.com/storekeep/storekeep/sdk/go"
)

// TestTheSDKIsTheServersClient runs the product's own client, the Go SDK,
// against the real site over HTTP: it fetches the published keys, verifies
// the key offline, activates, validates, checks in, downloads a license
// file bound to its machine and verifies it offline, and deactivates —
// every answer's digest, signature, nonce and time checked by the SDK.
func TestTheSDKIsTheServersClient(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
		f := newFixture(t, s)
		l := f.issue(t, licensing.Policy{Kind: licensing.Perpetual, UpdatesMonths: 12, MaxMachines: 1, Entitlements: []string{"dkim"}})
		srv := httptest.NewServer(s.H)
		defer srv.Close()
		ctx := context.Background()

		res, err := http.Get(srv.URL + "/.well-known/storekeep-license-keys.json")
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := io.ReadAll(res.Body)
		res.Body.Close()
		v, err := license.NewVerifierFromJSON(doc)
		if err != nil {
			t.Fatalf("published keys: %v\n%s", err, doc)
		}
		if got, err := v.VerifyKey(l.Key); err != nil || got.ID != l.LicenseID {
			t.Fatalf("offline key check: %+v, %v", got, err)
		}

		c := license.NewClient(srv.URL, v)
		c.Now = s.Clock.Now
		// A license's own state other than VALID comes back from the SDK
		// as an error carrying its code; anything else would be the SDK
		// refusing the answer itself (digest, signature, nonce, time).
		want := func(r *license.Response, err error, code license.Code) *license.Response {
			t.Helper()
			if err != nil {
				if license.CodeOf(err) != code {
					t.Fatalf("want %s, the SDK said: %v", code, err)
				}
				return r
			}
			if r.Code != code {
				t.Fatalf("code %s, want %s (%s)", r.Code, code, r.Message)
			}
			return r
		}
		r, err := c.Activate(ctx, license.ActivateRequest{Key: l.Key, Fingerprint: "mx1", Hostname: "mx1.example.com", Platform: "linux/amd64"})
		want(r, err, "VALID")
		r, err = c.Activate(ctx, license.ActivateRequest{Key: l.Key, Fingerprint: "mx2"})
		want(r, err, "TOO_MANY_MACHINES")
		r, err = c.Validate(ctx, license.ValidateRequest{Key: l.Key, Fingerprint: "mx1", Product: "mailguard", Entitlements: []string{"dkim"}})
		if want(r, err, "VALID"); r.License == nil || r.License.ID != l.LicenseID || r.Machine == nil {
			t.Fatalf("validate: %+v", r)
		}
		r, err = c.CheckIn(ctx, license.CheckInRequest{Key: l.Key, Fingerprint: "mx1", Version: "2.4.1"})
		want(r, err, "VALID")
		// Validation reports the version too (an upgrade between
		// check-ins); a text that is no version is refused.
		r, err = c.Validate(ctx, license.ValidateRequest{Key: l.Key, Fingerprint: "mx1", Version: "2.4.2"})
		want(r, err, "VALID")
		var version string
		if err := s.DB.QueryRowContext(ctx, `SELECT version FROM license_machines WHERE license_id = (SELECT id FROM licenses WHERE lic = $1)`, l.LicenseID).Scan(&version); err != nil || version != "2.4.2" {
			t.Fatalf("validation recorded version %q, %v", version, err)
		}
		if _, err := c.Validate(ctx, license.ValidateRequest{Key: l.Key, Fingerprint: "mx1", Version: "2.4.2; drop"}); err == nil {
			t.Fatal("a version with spaces and a semicolon was accepted")
		}
		r, err = c.File(ctx, license.FileRequest{Key: l.Key, Fingerprint: "mx1"})
		want(r, err, "VALID")
		if _, err := v.VerifyFile([]byte(r.File), "mx1", s.Clock.Now()); err != nil {
			t.Fatalf("the license file does not verify offline: %v", err)
		}
		if _, err := v.VerifyFile([]byte(r.File), "mx2", s.Clock.Now()); err == nil {
			t.Fatal("a file bound to mx1 verified on mx2")
		}
		r, err = c.Deactivate(ctx, license.DeactivateRequest{Key: l.Key, Fingerprint: "mx1"})
		want(r, err, "VALID")
		r, err = c.Activate(ctx, license.ActivateRequest{Key: l.Key, Fingerprint: "mx2"})
		want(r, err, "VALID")
	})
}
