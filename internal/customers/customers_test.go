package customers_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/testutil"
)

var start = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)

func requestSignIn(t *testing.T, d *db.DB, email string, now time.Time) string {
	t.Helper()
	var token string
	err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		token, err = customers.RequestSignIn(context.Background(), tx, email, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func completeSignIn(d *db.DB, token string, now time.Time) (c customers.Customer, created bool, err error) {
	err = d.Tx(context.Background(), func(tx *sql.Tx) error {
		c, created, err = customers.CompleteSignIn(context.Background(), tx, token, now)
		return err
	})
	return c, created, err
}

// signUp makes an account for email through its first sign-in.
func signUp(t *testing.T, d *db.DB, email string) customers.Customer {
	t.Helper()
	c, created, err := completeSignIn(d, requestSignIn(t, d, email, start), start)
	if err != nil || !created {
		t.Fatalf("first sign-in of %s: created %v, %v", email, created, err)
	}
	return c
}

func countCustomers(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT count(*) FROM customers`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSignInCreatesTheAccountWhenTheLinkIsUsed(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		token := requestSignIn(t, d, "  Ada@Example.COM ", start)
		if n := countCustomers(t, d); n != 0 {
			t.Fatalf("asking for a link created %d accounts", n)
		}
		tok, err := customers.PeekToken(ctx, d, token, customers.SignIn, start)
		if err != nil || tok.Email != "ada@example.com" || tok.CustomerID != 0 {
			t.Fatalf("PeekToken = %+v, %v", tok, err)
		}
		if _, err := customers.PeekToken(ctx, d, token, customers.EmailChange, start); !errors.Is(err, customers.ErrInvalidToken) {
			t.Fatalf("a sign-in link passed as an email change link: %v", err)
		}
		c, created, err := completeSignIn(d, token, start.Add(time.Minute))
		if err != nil || !created || c.Email != "ada@example.com" || c.ID == 0 || !c.LastSeenAt.Equal(start.Add(time.Minute)) {
			t.Fatalf("CompleteSignIn = %+v, %v, %v", c, created, err)
		}
		// Used once, never again.
		if _, _, err := completeSignIn(d, token, start.Add(2*time.Minute)); !errors.Is(err, customers.ErrInvalidToken) {
			t.Fatalf("second use: %v, want ErrInvalidToken", err)
		}
		if _, err := customers.PeekToken(ctx, d, token, customers.SignIn, start); !errors.Is(err, customers.ErrInvalidToken) {
			t.Fatalf("a used link still peeks: %v", err)
		}
		// The next sign-in finds the account.
		token2 := requestSignIn(t, d, "ada@example.com", start.Add(time.Hour))
		if tok, _ := customers.PeekToken(ctx, d, token2, customers.SignIn, start.Add(time.Hour)); tok.CustomerID != c.ID {
			t.Fatalf("link for an existing account names customer %d, want %d", tok.CustomerID, c.ID)
		}
		again, created, err := completeSignIn(d, token2, start.Add(time.Hour))
		if err != nil || created || again.ID != c.ID {
			t.Fatalf("second sign-in = %+v, created %v, %v", again, created, err)
		}
		if n := countCustomers(t, d); n != 1 {
			t.Fatalf("%d accounts, want 1", n)
		}
		for _, bad := range []string{"", "made-up", strings.Repeat("x", 500)} {
			if _, _, err := completeSignIn(d, bad, start); !errors.Is(err, customers.ErrInvalidToken) {
				t.Errorf("token %q: %v, want ErrInvalidToken", bad, err)
			}
		}
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := customers.RequestSignIn(ctx, tx, "not an address", start)
			return err
		}); err == nil {
			t.Fatal("RequestSignIn accepted a malformed address")
		}
	})
}

func TestSignInLinkExpires(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		early := requestSignIn(t, d, "ada@example.com", start)
		late := requestSignIn(t, d, "ada@example.com", start)
		if _, _, err := completeSignIn(d, early, start.Add(customers.SignInTTL-time.Second)); err != nil {
			t.Fatalf("a link used within %v was refused: %v", customers.SignInTTL, err)
		}
		if _, _, err := completeSignIn(d, late, start.Add(customers.SignInTTL)); !errors.Is(err, customers.ErrInvalidToken) {
			t.Fatalf("a link used after %v: %v, want ErrInvalidToken", customers.SignInTTL, err)
		}
	})
}

// TestSignInLinkWorksOnceUnderRace uses one link from many goroutines at
// once: exactly one gets in.
func TestSignInLinkWorksOnceUnderRace(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		signUp(t, d, "ada@example.com")
		token := requestSignIn(t, d, "ada@example.com", start)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { _, _, errs[i] = completeSignIn(d, token, start.Add(time.Second)) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, customers.ErrInvalidToken):
				t.Errorf("unexpected error: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d of %d racing uses of one link succeeded, want 1", won, n)
		}
	})
}

// TestFirstSignInRace completes two links to a new address at once: one
// account results, and exactly one of them reports creating it.
func TestFirstSignInRace(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		tokens := []string{requestSignIn(t, d, "new@example.com", start), requestSignIn(t, d, "new@example.com", start)}
		var wg sync.WaitGroup
		got := make([]customers.Customer, 2)
		created := make([]bool, 2)
		errs := make([]error, 2)
		for i := range tokens {
			wg.Go(func() { got[i], created[i], errs[i] = completeSignIn(d, tokens[i], start) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("errors: %v, %v", errs[0], errs[1])
		}
		if got[0].ID != got[1].ID || created[0] == created[1] {
			t.Fatalf("got accounts %d and %d, created %v", got[0].ID, got[1].ID, created)
		}
		if n := countCustomers(t, d); n != 1 {
			t.Fatalf("%d accounts, want 1", n)
		}
	})
}

func requestChange(d *db.DB, id int64, newEmail string, now time.Time) (string, error) {
	var token string
	err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		token, err = customers.RequestEmailChange(context.Background(), tx, id, newEmail, now)
		return err
	})
	return token, err
}

func confirmChange(d *db.DB, token string, now time.Time) (c customers.Customer, err error) {
	err = d.Tx(context.Background(), func(tx *sql.Tx) error {
		c, err = customers.ConfirmEmailChange(context.Background(), tx, token, now)
		return err
	})
	return c, err
}

func TestEmailChangeNeedsTheNewAddress(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ada := signUp(t, d, "ada@example.com")
		bob := signUp(t, d, "bob@example.com")
		oldLink := requestSignIn(t, d, "ada@example.com", start)

		if _, err := requestChange(d, ada.ID, "ADA@example.com", start); !errors.Is(err, customers.ErrSameEmail) {
			t.Fatalf("change to the same address: %v, want ErrSameEmail", err)
		}
		if _, err := requestChange(d, ada.ID, "not an address", start); err == nil {
			t.Fatal("change to a malformed address accepted")
		}
		first, err := requestChange(d, ada.ID, "ada@new.example", start)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := customers.PeekToken(ctx, d, first, customers.EmailChange, start)
		if err != nil || tok.NewEmail != "ada@new.example" || tok.Email != "ada@example.com" || tok.CustomerID != ada.ID {
			t.Fatalf("PeekToken = %+v, %v", tok, err)
		}
		if c, _ := customers.ByID(ctx, d, ada.ID); c.Email != "ada@example.com" {
			t.Fatalf("the address changed before confirmation: %s", c.Email)
		}
		// A newer request cancels the first.
		second, err := requestChange(d, ada.ID, "Ada@Newer.example", start.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := confirmChange(d, first, start.Add(2*time.Minute)); !errors.Is(err, customers.ErrInvalidToken) {
			t.Fatalf("a replaced change link: %v, want ErrInvalidToken", err)
		}
		c, err := confirmChange(d, second, start.Add(2*time.Minute))
		if err != nil || c.Email != "ada@newer.example" || c.ID != ada.ID {
			t.Fatalf("ConfirmEmailChange = %+v, %v", c, err)
		}
		if _, err := confirmChange(d, second, start.Add(3*time.Minute)); !errors.Is(err, customers.ErrInvalidToken) {
			t.Fatalf("second use of a change link: %v", err)
		}
		// A sign-in link sent to the old address no longer opens the account.
		if _, _, err := completeSignIn(d, oldLink, start.Add(3*time.Minute)); !errors.Is(err, customers.ErrInvalidToken) {
			t.Fatalf("sign-in link to the old address: %v, want ErrInvalidToken", err)
		}

		// Another account's address: asking works (it reveals nothing),
		// confirming is refused and nothing changes.
		taken, err := requestChange(d, ada.ID, "bob@example.com", start.Add(time.Hour))
		if err != nil {
			t.Fatalf("asking for a taken address failed, which reveals the account: %v", err)
		}
		if _, err := confirmChange(d, taken, start.Add(time.Hour)); !errors.Is(err, customers.ErrEmailTaken) {
			t.Fatalf("confirming a taken address: %v, want ErrEmailTaken", err)
		}
		if c, _ := customers.ByID(ctx, d, ada.ID); c.Email != "ada@newer.example" {
			t.Fatalf("a refused change changed the address to %s", c.Email)
		}
		if c, _ := customers.ByID(ctx, d, bob.ID); c.Email != "bob@example.com" {
			t.Fatalf("bob's address changed to %s", c.Email)
		}

		// Links expire after a day.
		late, err := requestChange(d, ada.ID, "ada@late.example", start.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := confirmChange(d, late, start.Add(2*time.Hour+customers.EmailChangeTTL)); !errors.Is(err, customers.ErrInvalidToken) {
			t.Fatalf("expired change link: %v", err)
		}
	})
}

func TestSessionsEndWhenIdleOldOrRevoked(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ada := signUp(t, d, "ada@example.com")
		startSession := func(now time.Time) string {
			var token string
			if err := d.Tx(ctx, func(tx *sql.Tx) error {
				var err error
				token, err = customers.StartSession(ctx, tx, ada.ID, now)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return token
		}
		lookup := func(token string, now time.Time) error {
			s, err := customers.LookupSession(ctx, d, token, now)
			if err == nil && s.Customer.ID != ada.ID {
				t.Fatalf("session of customer %d, want %d", s.Customer.ID, ada.ID)
			}
			return err
		}

		token := startSession(start)
		now := start.Add(customers.IdleTimeout - time.Minute)
		if err := lookup(token, now); err != nil {
			t.Fatalf("session refused before the idle timeout: %v", err)
		}
		if c, _ := customers.ByID(ctx, d, ada.ID); !c.LastSeenAt.Equal(now) {
			t.Fatalf("last seen %v, want %v", c.LastSeenAt, now)
		}
		if err := lookup(token, now.Add(customers.IdleTimeout)); !errors.Is(err, customers.ErrNoSession) {
			t.Fatalf("idle session: %v, want ErrNoSession", err)
		}

		// Used every few days, a session still ends after 30 days.
		token = startSession(start)
		for now = start; now.Before(start.Add(customers.AbsoluteTimeout - 3*24*time.Hour)); now = now.Add(3 * 24 * time.Hour) {
			if err := lookup(token, now); err != nil {
				t.Fatalf("session ended early, at %v: %v", now, err)
			}
		}
		if err := lookup(token, start.Add(customers.AbsoluteTimeout)); !errors.Is(err, customers.ErrNoSession) {
			t.Fatalf("session past the absolute timeout: %v", err)
		}

		token = startSession(start)
		s, err := customers.LookupSession(ctx, d, token, start)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return customers.RevokeSession(ctx, tx, ada.ID, s.ID, start) }); err != nil {
			t.Fatal(err)
		}
		if err := lookup(token, start); !errors.Is(err, customers.ErrNoSession) {
			t.Fatalf("revoked session: %v", err)
		}
		for _, forged := range []string{"", "forged", token + "x", strings.Repeat("a", 300)} {
			if err := lookup(forged, start); !errors.Is(err, customers.ErrNoSession) {
				t.Errorf("forged token %q: %v", forged, err)
			}
		}
		// Only hashes are stored.
		var stored int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM customer_sessions WHERE token_hash = $1`, token).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("a session token is stored in the clear (%d, %v)", stored, err)
		}
	})
}

func TestProfileValidation(t *testing.T) {
	good := customers.Profile{Name: " Ada Lovelace ", Company: "Analytical Engines Ltd", AddressLine1: "12 Marylebone Road",
		PostalCode: "NW1 5LR", City: "London", Country: "gb", VATID: "gb 123 4567 89"}
	p, err := good.Normalise()
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Ada Lovelace" || p.Country != "GB" || p.VATID != "GB123456789" || !p.HasAddress() || p.CountryName() != "United Kingdom" {
		t.Fatalf("normalised profile %+v", p)
	}
	if _, err := (customers.Profile{}).Normalise(); err != nil {
		t.Fatalf("an empty profile is refused: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*customers.Profile)
		field string
	}{
		{"unknown country", func(p *customers.Profile) { p.Country = "XX" }, "country"},
		{"country name instead of code", func(p *customers.Profile) { p.Country = "Germany" }, "country"},
		{"long name", func(p *customers.Profile) { p.Name = strings.Repeat("n", 201) }, "name"},
		{"long company", func(p *customers.Profile) { p.Company = strings.Repeat("c", 201) }, "company"},
		{"long street", func(p *customers.Profile) { p.AddressLine1 = strings.Repeat("s", 201) }, "address_line1"},
		{"long city", func(p *customers.Profile) { p.City = strings.Repeat("c", 101) }, "city"},
		{"long postal code", func(p *customers.Profile) { p.PostalCode = strings.Repeat("1", 17) }, "postal_code"},
		{"odd postal code", func(p *customers.Profile) { p.PostalCode = "<b>1</b>" }, "postal_code"},
		{"line break in a name", func(p *customers.Profile) { p.Name = "Ada\r\nBcc: x" }, "name"},
		{"address without city", func(p *customers.Profile) { p.City = "" }, "city"},
		{"address without country", func(p *customers.Profile) { p.Country = "" }, "country"},
		{"VAT ID without prefix", func(p *customers.Profile) { p.VATID = "123456789" }, "vat_id"},
		{"German VAT ID too short", func(p *customers.Profile) { p.VATID = "DE12345678" }, "vat_id"},
		{"Austrian VAT ID without U", func(p *customers.Profile) { p.VATID = "AT12345678" }, "vat_id"},
		{"Greek VAT ID with GR", func(p *customers.Profile) { p.VATID = "GR123456789" }, "vat_id"},
		{"Dutch VAT ID without B", func(p *customers.Profile) { p.VATID = "NL123456789012" }, "vat_id"},
		{"unknown prefix", func(p *customers.Profile) { p.VATID = "QQ12345" }, "vat_id"},
		{"punctuation", func(p *customers.Profile) { p.VATID = "DE12345678!" }, "vat_id"},
	} {
		p := good
		tc.edit(&p)
		_, err := p.Normalise()
		var ve *customers.ValidationError
		if !errors.As(err, &ve) || ve.Fields[tc.field] == "" {
			t.Errorf("%s: %v, want a message for %s", tc.name, err, tc.field)
		}
	}
	for _, ok := range []string{"DE123456789", "ATU12345678", "EL123456789", "FR40303265045", "NL123456789B01", "ESX1234567A",
		"IE1234567WA", "IE1A23456B", "BE0123456789", "SE123456789001", "XI123456789", "CHE-123.456.789", "NO123456789MVA", ""} {
		if got, msg := customers.NormaliseVATID(ok); msg != "" {
			t.Errorf("NormaliseVATID(%q) = %q, %q; want it accepted", ok, got, msg)
		}
	}
}

func TestUpdateProfileSavesNothingInvalid(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ada := signUp(t, d, "ada@example.com")
		update := func(p customers.Profile) (c customers.Customer, err error) {
			err = d.Tx(ctx, func(tx *sql.Tx) error {
				c, err = customers.UpdateProfile(ctx, tx, ada.ID, p, start.Add(time.Hour))
				return err
			})
			return c, err
		}
		c, err := update(customers.Profile{Name: "Ada", AddressLine1: "Hauptstraße 1", PostalCode: "10115", City: "Berlin", Country: "DE", VATID: "DE 123456789"})
		if err != nil || c.Name != "Ada" || c.VATID != "DE123456789" || !c.UpdatedAt.Equal(start.Add(time.Hour)) {
			t.Fatalf("UpdateProfile = %+v, %v", c, err)
		}
		var ve *customers.ValidationError
		_, err = update(customers.Profile{Name: "Changed", Country: "ZZ", PostalCode: "!"})
		if !errors.As(err, &ve) {
			t.Fatalf("invalid profile: %v", err)
		}
		// One kind of refusal: the web needs no type of ours to see it.
		if rf, ok := refuse.As(err); !ok || rf.Kind != refuse.Invalid || rf.Field != "address_line1" || rf.Msg != ve.Error() ||
			!errors.Is(err, customers.ErrInvalidProfile) {
			t.Fatalf("an invalid profile is not an Invalid refusal: %+v, %v", rf, ok)
		}
		if got, _ := customers.ByID(ctx, d, ada.ID); got.Name != "Ada" || got.Country != "DE" {
			t.Fatalf("an invalid profile was saved: %+v", got)
		}
		if _, err := customers.ByEmail(ctx, d, "ADA@example.com"); err != nil {
			t.Fatalf("ByEmail ignores case: %v", err)
		}
		if _, err := customers.ByID(ctx, d, 9999); !errors.Is(err, customers.ErrNotFound) {
			t.Fatalf("ByID of nobody: %v", err)
		}
	})
}

func TestPurgeRemovesOldLinksAndSessions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ada := signUp(t, d, "ada@example.com")
		requestSignIn(t, d, "someone@example.com", start.Add(customers.TokenRetention))
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := customers.StartSession(ctx, tx, ada.ID, start)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// The inventory-driven retention purge removes them.
		if _, err := privacy.Purge(ctx, d, privacy.Declared, start.Add(customers.SessionRetention+time.Second)); err != nil {
			t.Fatal(err)
		}
		var tokens, sessions int
		d.QueryRowContext(ctx, `SELECT count(*) FROM customer_tokens`).Scan(&tokens)
		d.QueryRowContext(ctx, `SELECT count(*) FROM customer_sessions`).Scan(&sessions)
		if tokens != 0 || sessions != 0 {
			t.Errorf("%d links and %d sessions left past their retention", tokens, sessions)
		}
	})
}

func TestCountries(t *testing.T) {
	cs := customers.Countries()
	if len(cs) != 249 || cs[0].Name != "Afghanistan" || cs[1].Name != "Åland Islands" {
		t.Fatalf("%d countries starting %v", len(cs), cs[:2])
	}
	if customers.CountryName("DE") != "Germany" || customers.CountryName("XX") != "" || !customers.IsEU("AT") || customers.IsEU("CH") {
		t.Fatal("country lookups wrong")
	}
}

// TestEmailChangeRace confirms two accounts' changes to one new address at
// once: one gets it, the other is told it is taken (not an internal error).
func TestEmailChangeRace(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		var links []string
		for _, e := range []string{"ada@example.com", "bob@example.com"} {
			link, err := requestChange(d, signUp(t, d, e).ID, "shared@example.com", start)
			if err != nil {
				t.Fatal(err)
			}
			links = append(links, link)
		}
		errs := make([]error, len(links))
		var wg sync.WaitGroup
		for i := range links {
			wg.Go(func() { _, errs[i] = confirmChange(d, links[i], start) })
		}
		wg.Wait()
		if !(errs[0] == nil && errors.Is(errs[1], customers.ErrEmailTaken)) && !(errs[1] == nil && errors.Is(errs[0], customers.ErrEmailTaken)) {
			t.Fatalf("racing changes to one address: %v, %v; want one success and one ErrEmailTaken", errs[0], errs[1])
		}
	})
}
