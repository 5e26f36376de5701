package tax_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/tax"
)

// fakeVIES answers like the VIES REST API's check-vat-number, by the
// number asked: DE111111111 valid, DE222222222 not registered,
// DE333333333 never answers, DE444444444 fails with 503, DE555555555
// answers garbage, DE666666666 says the member state is unavailable.
type fakeVIES struct {
	mu   sync.Mutex
	reqs []map[string]string
}

func (f *fakeVIES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req map[string]string
	if r.Method != http.MethodPost || r.URL.Path != "/check-vat-number" || json.NewDecoder(r.Body).Decode(&req) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch req["vatNumber"] {
	case "111111111":
		_, _ = w.Write([]byte(`{"countryCode":"DE","vatNumber":"111111111","requestDate":"2026-12-01T10:00:00.000Z","valid":true,
			"requestIdentifier":"WAPIAAAAW1234567","name":"Milter Kunde GmbH","address":"Hauptstr. 1\n10115 Berlin"}`))
	case "222222222":
		_, _ = w.Write([]byte(`{"countryCode":"DE","vatNumber":"222222222","requestDate":"2026-12-01T10:00:00.000Z","valid":false,"name":"---","address":"---"}`))
	case "333333333":
		<-r.Context().Done() // the client gives up first
	case "444444444":
		http.Error(w, `{"actionSucceed":false,"errorWrappers":[{"error":"SERVICE_UNAVAILABLE"}]}`, http.StatusServiceUnavailable)
	case "555555555":
		_, _ = w.Write([]byte(`<html>maintenance</html>`))
	case "666666666":
		_, _ = w.Write([]byte(`{"actionSucceed":false,"errorWrappers":[{"error":"MS_UNAVAILABLE","message":"member state down"}]}`))
	default:
		_, _ = w.Write([]byte(`{"valid":false}`))
	}
}

func TestVIES(t *testing.T) {
	fake := &fakeVIES{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	v := tax.VIES{URL: srv.URL + "/check-vat-number", Requester: "FR AB123456789", Timeout: 200 * time.Millisecond}
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 5, 0, time.UTC)

	c, err := tax.Verify(ctx, v, "DE 111 111 111", now)
	if err != nil {
		t.Fatal(err)
	}
	want := tax.VIESResult{Valid: true, Name: "Milter Kunde GmbH", Address: "Hauptstr. 1\n10115 Berlin", RequestID: "WAPIAAAAW1234567",
		At: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	if c.Number != "DE111111111" || !c.FormatOK || c.VIES == nil || *c.VIES != want {
		t.Fatalf("valid number: %+v (%+v)", c, c.VIES)
	}
	if req := fake.reqs[0]; req["countryCode"] != "DE" || req["requesterMemberStateCode"] != "FR" || req["requesterNumber"] != "AB123456789" {
		t.Errorf("request %v", req)
	}
	var stored tax.Check
	if err := json.Unmarshal([]byte(c.JSON()), &stored); err != nil || stored.VIES == nil || stored.VIES.RequestID != "WAPIAAAAW1234567" {
		t.Errorf("stored check %s", c.JSON())
	}
	if d, err := tax.Decide(german(), "DE", "DE111111111", c); err != nil || d.Treatment != tax.Domestic {
		t.Errorf("valid German business at home: %+v, %v", d, err)
	}

	c, err = tax.Verify(ctx, v, "DE222222222", now)
	if err != nil || c.VIES == nil || c.VIES.Valid || c.VIES.Name != "" || !c.VIES.At.Equal(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("unregistered number: %+v, %v", c, err)
	}
	at := german()
	at.HomeCountry, at.SellerVATID = "AT", "ATU12345678"
	if _, err := tax.Decide(at, "DE", "DE222222222", c); !errors.Is(err, tax.ErrVATInvalid) {
		t.Errorf("unregistered number decided: %v", err)
	}

	for _, n := range []string{"DE333333333", "DE444444444", "DE555555555", "DE666666666"} {
		start := time.Now()
		c, err := tax.Verify(ctx, v, n, now)
		if !errors.Is(err, tax.ErrVIESUnavailable) || c.Number != "" {
			t.Errorf("%s: %+v, %v; want ErrVIESUnavailable and no check", n, c, err)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("%s took %s", n, el)
		}
		if _, err := v.CheckVAT(ctx, n[:2], n[2:]); err == nil || strings.Contains(err.Error(), "maintenance") {
			t.Errorf("%s: CheckVAT error %v", n, err)
		}
	}
	if _, err := v.CheckVAT(ctx, "DE", "333333333"); err == nil || !strings.Contains(err.Error(), "no answer within") {
		t.Errorf("timeout: %v", err)
	}
}

func TestVerifyWithoutVIES(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	c, err := tax.Verify(context.Background(), nil, "FR AB123456789", now)
	if err != nil || c.Number != "FRAB123456789" || !c.FormatOK || c.VIES != nil {
		t.Errorf("VIES off: %+v, %v", c, err)
	}
	if c, err := tax.Verify(context.Background(), nil, "", now); err != nil || c.JSON() != "" {
		t.Errorf("no number: %+v, %v", c, err)
	}
	// Numbers outside the EU are never sent to VIES.
	c, err = tax.Verify(context.Background(), failing{t}, "CHE123456789", now)
	if err != nil || c.VIES != nil {
		t.Errorf("Swiss number: %+v, %v", c, err)
	}
}

type failing struct{ t *testing.T }

func (f failing) CheckVAT(context.Context, string, string) (tax.VIESResult, error) {
	f.t.Error("VIES asked")
	return tax.VIESResult{}, errors.New("asked")
}
