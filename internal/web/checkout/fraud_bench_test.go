package checkout_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"testing"

	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/app"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

type benchGeo struct{}

func (benchGeo) Country(netip.Addr) string { return "DE" }

// BenchmarkFraudCheckout measures what the fraud signals cost a checkout:
// placing an order through the whole site on SQLite (form, tax, the order's
// transaction, the demo provider's hosted page), without and with the
// checkout's checks (disposable-mail list, a country look-up, the
// observation) (docs/benchmarks.md, "Fraud signals").
//
//	go test -run '^$' -bench FraudCheckout -count 6 ./internal/web/checkout/
func BenchmarkFraudCheckout(b *testing.B) {
	for _, with := range []bool{false, true} {
		name := "without"
		if with {
			name = "with"
		}
		d := testutil.SQLite(b)
		opts := []webtest.Option{webtest.WithPayments(webtest.NewDemoProvider(b), payments.Manual{}), webtest.WithDemo()}
		if with {
			obs := detect.NewObserver(d, []byte("bench secret"), nil, slog.New(slog.DiscardHandler))
			b.Cleanup(func() { _ = obs.Close(context.Background()) })
			list, err := detect.NewDisposable("", nil)
			if err != nil {
				b.Fatal(err)
			}
			checks := &detect.Checks{Raise: detect.Cases, Disposable: list, Geo: benchGeo{}, Observer: obs}
			opts = append(opts, func(o *app.Options) { o.Fraud = app.Fraud{Observer: obs, Checks: checks} })
		}
		s := webtest.NewSite(b, d, opts...)
		price := webtest.PriceID(b, d)
		br, _ := webtest.SignedInCustomer(b, s, "bea@example.com")
		form := webtest.WithForm(webtest.BillingForm, "price", price, "method", "demo")
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				res, body := br.Post(b, "/checkout", form)
				if res.StatusCode != http.StatusSeeOther {
					b.Fatalf("checkout answered %d %s", res.StatusCode, body)
				}
			}
		})
	}
}
