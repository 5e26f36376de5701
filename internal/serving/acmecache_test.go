package serving

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestDBCache(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		c := NewDBCache(d, clk)

		if _, err := c.Get(ctx, "shop.example.com"); !errors.Is(err, autocert.ErrCacheMiss) {
			t.Fatalf("Get of a missing key: err = %v, want autocert.ErrCacheMiss", err)
		}
		// Every byte value survives: certificates and keys are binary-safe PEM,
		// but the cache must not depend on that.
		data := make([]byte, 256)
		for i := range data {
			data[i] = byte(i)
		}
		if err := c.Put(ctx, "shop.example.com", data); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Get(ctx, "shop.example.com"); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get after Put = %x, %v", got, err)
		}
		clk.Advance(time.Hour)
		if err := c.Put(ctx, "shop.example.com", []byte("renewed")); err != nil {
			t.Fatalf("Put over an existing key: %v", err)
		}
		if got, err := c.Get(ctx, "shop.example.com"); err != nil || string(got) != "renewed" {
			t.Fatalf("Get after the second Put = %q, %v", got, err)
		}
		var updated time.Time
		if err := d.QueryRowContext(ctx, `SELECT updated_at FROM acme_cache WHERE key = $1`, "shop.example.com").Scan(&updated); err != nil {
			t.Fatal(err)
		}
		if !updated.Equal(clk.Now()) {
			t.Errorf("updated_at = %v, want %v", updated, clk.Now())
		}
		if err := c.Put(ctx, "acme_account+key", nil); err != nil {
			t.Fatalf("Put of empty data: %v", err)
		}
		if got, err := c.Get(ctx, "acme_account+key"); err != nil || len(got) != 0 {
			t.Fatalf("Get of empty data = %q, %v", got, err)
		}

		if err := c.Delete(ctx, "shop.example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, "shop.example.com"); !errors.Is(err, autocert.ErrCacheMiss) {
			t.Fatalf("Get after Delete: err = %v, want autocert.ErrCacheMiss", err)
		}
		if err := c.Delete(ctx, "never-stored"); err != nil {
			t.Fatalf("Delete of a missing key: %v", err)
		}
		if got, err := c.Get(ctx, "acme_account+key"); err != nil || got == nil {
			t.Fatalf("Delete removed another key: %v", err)
		}
	})
}

// TestHTTPChallengeAnsweredByAnyInstance: autocert keeps HTTP-01 answers in
// its cache, so with the database cache the instance the CA's request
// reaches answers it even when another instance started the order.
func TestHTTPChallengeAnsweredByAnyInstance(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		// What instance A's manager stores while it fulfils a challenge
		// (autocert names the entry after the token).
		if err := NewDBCache(d, clock.System{}).Put(context.Background(), "tok123+http-01", []byte("tok123.thumbprint")); err != nil {
			t.Fatal(err)
		}
		b, err := NewHTTPS(Options{BaseURL: "https://shop.example.com", Domains: []string{"shop.example.com"}, ACMECache: NewDBCache(d, clock.System{})})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "http://shop.example.com/.well-known/acme-challenge/tok123", nil)
		w := httptest.NewRecorder()
		b.HTTPHandler.ServeHTTP(w, r)
		if w.Code != 200 || w.Body.String() != "tok123.thumbprint" {
			t.Errorf("instance B answered %d %q", w.Code, w.Body.String())
		}
	})
}
