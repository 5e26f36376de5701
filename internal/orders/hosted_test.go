package orders_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestStartHosted: with the real Stripe client, a checkout Stripe
// (stripe-mock) opens records its session on the order; one Stripe fails
// to open (an API answering 500) cancels the order with the cause in its
// history and says so with ErrCheckoutNotStarted.
func TestStartHosted(t *testing.T) {
	mock := testutil.StartStripeMock(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"error":{"type":"api_error","message":"down"}}`)
	}))
	t.Cleanup(down.Close)
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		price := catalogWithPrice(t, d)
		clk := clock.NewFixed(now)
		for _, backend := range []string{mock, down.URL} {
			st, err := payments.NewStripe(payments.StripeConfig{SecretKey: "sk_test_123", WebhookSecret: "whsec_x", Backend: backend,
				HTTPClient: &http.Client{}})
			if err != nil {
				t.Fatal(err)
			}
			shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://shop.example", Providers: []payments.Provider{st}}
			o := place(t, d, price, "stripe", "")
			started, err := shop.StartHosted(ctx, o, st, buyer.Email, clk.Now)
			got, gerr := orders.ByID(ctx, d, o.ID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if backend == mock {
				if err != nil || started.SessionRef == "" || got.ProcessorSession != started.SessionRef || got.Status != orders.Pending {
					t.Fatalf("opened: %+v, %v; order %s with session %q", started, err, got.Status, got.ProcessorSession)
				}
				continue
			}
			if !errors.Is(err, orders.ErrCheckoutNotStarted) || got.Status != orders.Cancelled {
				t.Fatalf("provider down: %v; order %s", err, got.Status)
			}
			if ev := lastEvent(t, d, o.ID); !strings.Contains(ev.Detail, "could not be reached") {
				t.Errorf("the cancellation says %q", ev.Detail)
			}
		}
	})
}
