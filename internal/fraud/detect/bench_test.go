package detect_test

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/testutil"
)

// BenchmarkObserveCheckIn is what a check-in (or an activation, a
// repository request) adds to the request: two keyed hashes and a queued
// row; the batched write happens on the writer's goroutine.
//
//	go test -run '^$' -bench 'Observe|CheckoutChecks' ./internal/fraud/detect/
func BenchmarkObserveCheckIn(b *testing.B) {
	d := testutil.SQLite(b)
	obs := detect.NewObserver(d, []byte("bench secret"), clock.System{}, slog.New(slog.DiscardHandler))
	defer obs.Close(context.Background())
	i := 0
	for b.Loop() {
		obs.CheckIn(t0, addr(i%250, false), 1, 1, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
		i++
	}
}

// BenchmarkCheckoutChecks is what the checkout's checks add to the
// order's transaction when nothing fires: the disposable-mail look-up, the
// country look-up and the queued observation.
func BenchmarkCheckoutChecks(b *testing.B) {
	d := testutil.SQLite(b)
	obs := detect.NewObserver(d, []byte("bench secret"), clock.System{}, slog.New(slog.DiscardHandler))
	defer obs.Close(context.Background())
	list, err := detect.NewDisposable("", nil)
	if err != nil {
		b.Fatal(err)
	}
	checks := &detect.Checks{Raise: detect.Cases, Disposable: list, Geo: countries{ipDE: "DE"}, Observer: obs}
	o := orders.Order{ID: 1, Number: "SK-1", CustomerID: 1, Billing: orders.Billing{Email: "bea@example.com", Country: "DE"}}
	var tx *sql.Tx // nothing fires, so no statement runs
	for b.Loop() {
		if err := checks.Order(context.Background(), tx, d.Dialect, o, ipDE, t0); err != nil {
			b.Fatal(err)
		}
	}
}
