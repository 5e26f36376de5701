package tax

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/refuse"
)

// Check is what is known of a buyer's VAT number when the order is
// placed, stored with the order as JSON (orders.vat_check).
type Check struct {
	// Number is the VAT number checked, in canonical form.
	Number string `json:"number"`
	// FormatOK says its format was checked and is right.
	FormatOK bool `json:"format_ok"`
	// VIES is the EU's answer; nil when VIES was not asked (it is off).
	VIES *VIESResult `json:"vies,omitempty"`
}

// VIESResult is the answer of the EU's VIES service for one number.
type VIESResult struct {
	Valid   bool   `json:"valid"`
	Name    string `json:"name,omitempty"`
	Address string `json:"address,omitempty"`
	// RequestID is VIES's consultation number, the proof of the check
	// (given when the requester's own VAT number is sent).
	RequestID string    `json:"request_id,omitempty"`
	At        time.Time `json:"at"`
}

// JSON is the check as stored with the order; "" when no number was given.
func (c Check) JSON() string {
	if c.Number == "" {
		return ""
	}
	b, _ := json.Marshal(c) // plain fields only: cannot fail
	return string(b)
}

// Checker asks a registry whether a VAT number is registered. countryPrefix
// is the VAT prefix (EL for Greece), number the rest.
type Checker interface {
	CheckVAT(ctx context.Context, countryPrefix, number string) (VIESResult, error)
}

// ErrVIESUnavailable: VIES did not answer (in time, or at all, or with
// something readable). Nothing was decided and nothing is stored.
var ErrVIESUnavailable = refuse.New(refuse.Limited, "vies_unavailable",
	"The EU's VAT number service (VIES) did not answer, so your VAT number could not be confirmed and nothing was ordered. Try again in a few minutes, or leave the VAT number empty to pay with VAT.")

// Verify checks a buyer's VAT number (canonical form, already checked for
// format by CheckVATID) with checker when there is one and the number is an
// EU member state's. It returns ErrVIESUnavailable when the service fails;
// a number VIES does not know is not an error here (Decide refuses it).
func Verify(ctx context.Context, checker Checker, vatID string, now time.Time) (Check, error) {
	vatID = NormaliseVATID(vatID)
	if vatID == "" {
		return Check{}, nil
	}
	c := Check{Number: vatID, FormatOK: true}
	if known, ok := FormatKnown(vatID); !known || !ok || vatID[:2] == "XI" || checker == nil {
		return c, nil
	}
	res, err := checker.CheckVAT(ctx, vatID[:2], vatID[2:])
	if err != nil {
		return Check{}, ErrVIESUnavailable
	}
	if res.At.IsZero() {
		res.At = now.UTC()
	}
	c.VIES = &res
	return c, nil
}

// VIESURL is the address of the check-vat-number operation of the
// European Commission's VIES REST API.
const VIESURL = "https://ec.europa.eu/taxation_customs/vies/rest-api/check-vat-number"

// VIES checks numbers with the EU's VIES REST API (POST check-vat-number
// with a JSON body; the answer says valid, name, address, request date and,
// when the requester's number is sent, a consultation number).
type VIES struct {
	// URL is the operation's address; "" means VIESURL.
	URL string
	// Requester is the seller's own VAT number: with it VIES returns a
	// consultation number that proves the check.
	Requester string
	// Client makes the request; nil means one with Timeout.
	Client *http.Client
	// Timeout bounds the whole request; 0 means 5 seconds. A buyer waits
	// for it at checkout.
	Timeout time.Duration
}

type viesRequest struct {
	CountryCode              string `json:"countryCode"`
	VATNumber                string `json:"vatNumber"`
	RequesterMemberStateCode string `json:"requesterMemberStateCode,omitempty"`
	RequesterNumber          string `json:"requesterNumber,omitempty"`
}

type viesAnswer struct {
	Valid             *bool  `json:"valid"`
	Name              string `json:"name"`
	Address           string `json:"address"`
	RequestDate       string `json:"requestDate"`
	RequestIdentifier string `json:"requestIdentifier"`
	UserError         string `json:"userError"`
	ActionSucceed     *bool  `json:"actionSucceed"`
	ErrorWrappers     []struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	} `json:"errorWrappers"`
}

// CheckVAT asks VIES about one number.
func (v VIES) CheckVAT(ctx context.Context, prefix, number string) (VIESResult, error) {
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req := viesRequest{CountryCode: prefix, VATNumber: number}
	if r := NormaliseVATID(v.Requester); len(r) > 2 {
		req.RequesterMemberStateCode, req.RequesterNumber = r[:2], r[2:]
	}
	body, _ := json.Marshal(req) // strings only: cannot fail
	url := v.URL
	if url == "" {
		url = VIESURL
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return VIESResult{}, fmt.Errorf("tax: vies: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	hc := v.Client
	if hc == nil {
		hc = &http.Client{Timeout: timeout}
	}
	resp, err := hc.Do(hr)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return VIESResult{}, fmt.Errorf("tax: vies: no answer within %s", timeout)
		}
		return VIESResult{}, fmt.Errorf("tax: vies: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return VIESResult{}, fmt.Errorf("tax: vies: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return VIESResult{}, fmt.Errorf("tax: vies: HTTP %d", resp.StatusCode)
	}
	var a viesAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return VIESResult{}, fmt.Errorf("tax: vies: unreadable answer: %w", err)
	}
	if a.ActionSucceed != nil && !*a.ActionSucceed || len(a.ErrorWrappers) > 0 {
		code := "unknown"
		if len(a.ErrorWrappers) > 0 {
			code = a.ErrorWrappers[0].Error
		}
		return VIESResult{}, fmt.Errorf("tax: vies: the service failed (%s)", code)
	}
	if a.Valid == nil {
		return VIESResult{}, errors.New("tax: vies: the answer says neither valid nor invalid")
	}
	if u := a.UserError; u != "" && u != "VALID" && u != "INVALID" {
		// MS_UNAVAILABLE, TIMEOUT, ...: the member state did not answer,
		// which says nothing about the number.
		return VIESResult{}, fmt.Errorf("tax: vies: the service failed (%s)", u)
	}
	res := VIESResult{Valid: *a.Valid, Name: clean(a.Name), Address: clean(a.Address), RequestID: clean(a.RequestIdentifier)}
	if t, err := time.Parse(time.RFC3339, a.RequestDate); err == nil {
		res.At = t.UTC()
	}
	return res, nil
}

// clean drops VIES's "---" placeholder for data a member state does not
// give, and bounds what is stored.
func clean(s string) string {
	s = strings.TrimSpace(s)
	if s == "---" {
		return ""
	}
	if len(s) > 500 {
		s = strings.ToValidUTF8(s[:500], "")
	}
	return s
}

// VerifyFor checks a buyer's VAT number as the tax decision needs it:
// with checker only when its answer decides the tax (tax is on and the
// buyer's VAT country is a member state other than the seller's, where a
// valid number means reverse charge). Otherwise it returns the zero Check
// and the number goes nowhere: at home, outside the EU or with tax off it
// is checked for its format only, when the order is placed. The seller's
// own number is sent as the requester, so that VIES returns a
// consultation number, the proof of the check.
func VerifyFor(ctx context.Context, checker Checker, s Settings, country, vatID string, now time.Time) (Check, error) {
	c := VATCountry(country)
	if checker == nil || NormaliseVATID(vatID) == "" || !s.Enabled() || !IsEU(c) || c == s.HomeCountry {
		return Check{}, nil
	}
	if v, ok := checker.(VIES); ok && v.Requester == "" {
		v.Requester = s.SellerVATID
		checker = v
	}
	return Verify(ctx, checker, vatID, now)
}
