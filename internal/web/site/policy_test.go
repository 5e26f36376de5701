package site_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestPrivacyPolicyContent checks that the policy states each commitment
// and that it is generated from the inventory and the vendor's settings.
func TestPrivacyPolicyContent(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithBaseURL("https://shop.example.com"))
		res, body := s.Get(t, "/privacy")
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		webtest.MustContain(t, body,
			// the controller
			"Milterworks GmbH", "10115 Berlin", `href="mailto:privacy@milterworks.example"`,
			// what we collect, from the inventory
			"IP address", "Browser type and version", "Collected automatically when you use the site",
			"Security of the site", "Legitimate interests (Art. 6(1)(f) GDPR)", "Not stored",
			// recipients, with the vendor's hosting provider
			"Hetzner Online GmbH", `<th scope="row">Hetzner Online GmbH</th>`,
			"never sell, trade or rent", "only when the law or a court order requires",
			"Standard Contractual Clauses",
			// rights
			"<strong>Access.</strong>", "<strong>Rectification.</strong>", "<strong>Erasure.</strong>",
			"<strong>Restriction.</strong>", "<strong>Portability.</strong>", "<strong>Objection.</strong>",
			"<strong>Withdrawing consent.</strong>", "supervisory authority", "the one in Germany",
			// the self-service privacy center, where most rights take effect at once
			`its <a href="/account/privacy">privacy page</a>`, "download all of it", "erase your account",
			"no decisions about you based solely on automated processing", "do not build profiles",
			// security: encryption is claimed because the base URL is https
			"encrypted (HTTPS)", "Only the members of our staff who need",
			"“Last updated” date",
		)
		// The objection list names the legitimate-interest purposes in use:
		// the product updates by mail, the usage analytics', the request
		// log's and the suppression list's.
		_, list, _ := strings.Cut(body, "Today this concerns:")
		list, _, _ = strings.Cut(list, "</ul>")
		for _, p := range []string{"Product updates and security notices", "Improving the site and products", "Security of the site", "Keeping our mail deliverable"} {
			webtest.MustContain(t, list, "<li>"+p+"</li>")
		}

		// No notice: the first version is not marked significant.
		webtest.MustNotContain(t, body, "This policy changed on")
	})
}

func TestPrivacyPolicyClaimsEncryptionOnlyOverHTTPS(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithBaseURL("http://127.0.0.1:8080"))
		_, body := s.Get(t, "/privacy")
		webtest.MustNotContain(t, body, "HTTPS", "encrypted")
	})
}

// TestPolicyDateMovesExactlyWhenContentChanges: the "Last updated" date
// stays put as time passes and moves when the vendor's details change.
func TestPolicyDateMovesExactlyWhenContentChanges(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		first := `<time datetime="2026-05-07">7 May 2026</time>`
		for _, target := range []string{"/privacy", "/cookies"} {
			_, body := s.Get(t, target)
			webtest.MustContain(t, body, first)
		}

		s.Clock.Advance(40 * 24 * time.Hour) // 16 June 2026
		for _, target := range []string{"/privacy", "/cookies"} {
			_, body := s.Get(t, target)
			webtest.MustContain(t, body, first)
		}

		v := webtest.Vendor
		v.Address = "Neue Straße 2\n10115 Berlin\nGermany"
		ctx := context.Background()
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return settings.Save(ctx, tx, v, s.Clock.Now()) }); err != nil {
			t.Fatal(err)
		}
		moved := `<time datetime="2026-06-16">16 June 2026</time>`
		for _, target := range []string{"/privacy", "/cookies"} {
			_, body := s.Get(t, target)
			webtest.MustContain(t, body, moved)
			webtest.MustNotContain(t, body, first)
		}
		_, body := s.Get(t, "/privacy")
		webtest.MustContain(t, body, "Neue Straße 2")

		// Reading again later changes nothing.
		s.Clock.Advance(24 * time.Hour)
		_, body = s.Get(t, "/privacy")
		webtest.MustContain(t, body, moved)
	})
}

// TestSignificantChangeNotice: a significant change is announced at the
// top of the policy for 30 days after it is published.
func TestSignificantChangeNotice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		for _, doc := range []string{"/privacy", "/cookies"} {
			s.Get(t, doc) // publishes the first version
		}
		if _, err := d.ExecContext(context.Background(),
			`UPDATE policy_versions SET significant = TRUE, change_note = 'We now use a new hosting provider.'`); err != nil {
			t.Fatal(err)
		}
		for _, doc := range []string{"/privacy", "/cookies"} {
			_, body := s.Get(t, doc)
			webtest.MustContain(t, body, `class="notice"`, "This policy changed on 7 May 2026", "We now use a new hosting provider.")
		}
		s.Clock.Advance(29 * 24 * time.Hour)
		_, body := s.Get(t, "/privacy")
		webtest.MustContain(t, body, "This policy changed on 7 May 2026")

		s.Clock.Advance(2 * 24 * time.Hour)
		for _, doc := range []string{"/privacy", "/cookies"} {
			_, body := s.Get(t, doc)
			webtest.MustNotContain(t, body, `class="notice"`)
			webtest.MustContain(t, body, "7 May 2026")
		}
	})
}

// TestVendorSettingsLoadedOncePerRequest: a handler and the page it renders
// share one load of the vendor settings, and the next request sees a
// change.
func TestVendorSettingsLoadedOncePerRequest(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		ctx := context.Background()
		s.Srv.Handle("GET /test/vendor", func(w http.ResponseWriter, r *http.Request) error {
			before, err := s.Srv.Vendor(r)
			if err != nil {
				return err
			}
			v := before
			v.Name += " renamed"
			if err := d.Tx(ctx, func(tx *sql.Tx) error { return settings.Save(ctx, tx, v, s.Clock.Now()) }); err != nil {
				return err
			}
			after, err := s.Srv.Vendor(r)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(w, "%s|%s", before.Name, after.Name)
			return err
		})
		_, body := s.Get(t, "/test/vendor")
		if body != webtest.Vendor.Name+"|"+webtest.Vendor.Name {
			t.Fatalf("one request loaded the settings twice: %q", body)
		}
		_, body = s.Get(t, "/test/vendor")
		if want := webtest.Vendor.Name + " renamed|" + webtest.Vendor.Name + " renamed"; body != want {
			t.Fatalf("the next request got %q, want %q", body, want)
		}
	})
}
