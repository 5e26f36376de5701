package checkout_test

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestPurchaseIssuesALicense: through the assembled site, paying an order
// issues its license, and the confirmation mail carries a key that
// verifies against the site's signing key and validates.
func TestPurchaseIssuesALicense(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		keys := licensing.NewKeyring(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
		s := webtest.NewSite(t, d, webtest.WithPayments(webtest.NewDemoProvider(t), payments.Manual{}), webtest.WithDemo(), webtest.WithLicenseKeys(keys))
		price := webtest.PriceID(t, d)
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", "demo"))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("checkout answered %d", res.StatusCode)
		}
		pay := strings.TrimPrefix(res.Header.Get("Location"), "http://127.0.0.1:8080")
		res, _ = b.Post(t, pay+"/pay", nil)
		webtest.WantRedirect(t, res, "/account/orders/")

		var text string
		if err := d.QueryRowContext(context.Background(), `SELECT text_body FROM outbox WHERE template = 'order_confirmation' AND customer_id = $1`, c.ID).Scan(&text); err != nil {
			t.Fatal(err)
		}
		key := regexp.MustCompile(`SK1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`).FindString(text)
		if key == "" || !strings.Contains(text, "To activate") {
			t.Fatalf("the confirmation carries no key and no way to activate it:\n%s", text)
		}
		r, err := licensing.Validate(context.Background(), d, keys, licensing.Check{Key: key, Product: "mailguard"}, s.Clock.Now())
		if err != nil || r.Code != licensing.CodeValid || r.License.CustomerID != c.ID {
			t.Fatalf("the mailed key: %+v, %v", r, err)
		}
	})
}
