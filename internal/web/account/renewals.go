package account

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/tax"
	"github.com/storekeep/storekeep/internal/web"
)

// Renewal placements can mail an invoice, and the automatic renewal's
// switch asks the payment processor: a few an hour per customer.
var (
	limitRenewalOrder = ratelimit.Limit{Max: 10, Window: time.Hour}
	limitAutoRenew    = ratelimit.Limit{Max: 10, Window: time.Hour}
)

// renewalView is how a term license renews, as the account says it.
type renewalView struct {
	// Auto: a subscription renews it on Date (PastDue: its last payment
	// failed and the processor tries again).
	Auto, PastDue bool
	// Off: the customer turned automatic renewal off; the license runs
	// until Date. CanTurnOn while that period runs.
	Off, CanTurnOn bool
	// CanToggle: the subscription's processor is configured and can be
	// asked to change it.
	CanToggle bool
	// Renew: the customer can renew it for a year themselves (the
	// edition is sold by the year).
	Renew bool
	Date  time.Time
}

// Shown reports whether there is anything to say about renewal.
func (v renewalView) Shown() bool { return v.Auto || v.Off || v.Renew }

// renewal describes how l renews at now.
func (s *handler) renewal(ctx context.Context, l licensing.License, now time.Time) (renewalView, error) {
	var v renewalView
	if l.Perpetual() || l.Status != licensing.Active {
		return v, nil
	}
	v.Date = l.ExpiresAt
	if l.OrderID != 0 {
		sub, ok, err := orders.SubscriptionForOrder(ctx, s.db, l.OrderID)
		if err != nil {
			return v, err
		}
		if ok && sub.Status != payments.SubscriptionCancelled {
			if !sub.PeriodEnd.IsZero() {
				v.Date = sub.PeriodEnd
			}
			_, v.CanToggle = web.Provider(s.payments, sub.Provider).(payments.Subscriber)
			if sub.Renews() {
				v.Auto, v.PastDue = true, sub.Status == payments.SubscriptionPastDue
				return v, nil
			}
			v.Off, v.CanTurnOn = true, now.Before(v.Date)
		}
	}
	r, err := licensing.RenewableLicense(ctx, s.db, l.ID, l.CustomerID, now)
	if err != nil {
		if _, ok := refuse.As(err); ok {
			return v, nil
		}
		return v, err
	}
	if _, err := orders.RenewalOffer(ctx, s.db, r); errors.Is(err, orders.ErrRenewalUnavailable) {
		return v, nil
	} else if err != nil {
		return v, err
	}
	v.Renew = true
	return v, nil
}

// renewPage is the content of renew.html.
type renewPage struct {
	License licenseView
	Offer   orders.Offer
	// Quantity is the license's; Total the year's price for it.
	Quantity int
	Total    string
	// Until is when the license runs to once the renewal is paid today.
	Until time.Time
	// Pending is a renewal of this license placed before and not paid yet.
	Pending *orders.Order
	Billing orders.Billing
	web.PayForm
}

// renewable loads the signed-in customer's license of the path with what
// renewing it needs; refusals (perpetual, revoked, not sold by the year)
// are answered as they are.
func (s *handler) renewable(w http.ResponseWriter, r *http.Request) (*customers.Customer, renewPage, orders.Renewable, bool, error) {
	c, l, ok, err := s.customerLicense(w, r)
	if err != nil || !ok {
		return nil, renewPage{}, orders.Renewable{}, false, err
	}
	ctx, now := r.Context(), s.clock.Now()
	ren, err := licensing.RenewableLicense(ctx, s.db, l.ID, c.ID, now)
	if err != nil {
		return nil, renewPage{}, ren, false, err
	}
	page := renewPage{PayForm: web.PayForm{Methods: s.payments, FieldErrors: map[string]string{}}, Quantity: orders.RenewalQuantity(ren), Until: licensing.RenewedUntil(ren, now)}
	if page.Offer, err = orders.RenewalOffer(ctx, s.db, ren); err != nil {
		return nil, page, ren, false, err
	}
	page.Total = catalog.FormatMoney(page.Offer.Price.AmountMinor*int64(page.Quantity), page.Offer.Price.Currency)
	names, err := s.editionNames(r)
	if err != nil {
		return nil, page, ren, false, err
	}
	// The page names the license and its term only: how it renews and its
	// machines (view) are not read again.
	page.License = describe(l, names, now)
	if p, err := orders.PendingRenewal(ctx, s.db, c.ID, l.ID); err == nil {
		page.Pending = &p
	} else if !errors.Is(err, orders.ErrNotFound) {
		return nil, page, ren, false, err
	}
	return c, page, ren, true, nil
}

// accountRenewForm shows what renewing the license for a year costs and
// until when it then runs, with the billing details and the ways to pay
// checkout offers; or the renewal already waiting for payment.
func (s *handler) accountRenewForm(w http.ResponseWriter, r *http.Request) error {
	c, page, _, ok, err := s.renewable(w, r)
	if err != nil || !ok {
		return err
	}
	page.Billing = orders.Billing{Email: c.Email, Name: c.Name, Company: c.Company, Address: orders.ProfileAddress(c.Profile), Country: c.Country, VATID: c.VATID}
	if len(s.payments) > 0 {
		page.Method = s.payments[0].Name()
	}
	return s.render(w, r, http.StatusOK, "renew.html", "Renew "+page.License.Name, page)
}

// accountRenew places the renewal order (the price from the catalog, never
// the form) and continues into payment as checkout does: the invoice by
// mail, or the processor's payment page. A renewal already waiting is
// shown instead of placing a second.
func (s *handler) accountRenew(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	c, page, ren, ok, err := s.renewable(w, r)
	if err != nil || !ok {
		return err
	}
	if page.Pending != nil {
		http.Redirect(w, r, "/account/orders/"+page.Pending.Number+"?done=renewal-waiting", http.StatusSeeOther)
		return nil
	}
	f := r.PostForm.Get
	var probs []*refuse.Error
	page.Method = f("method")
	page.Billing, probs = orders.Billing{Email: c.Email, Name: f("name"), Company: f("company"), Address: f("address"),
		Country: f("country"), VATID: f("vat_id")}.Check()
	page.Refused(probs)
	p := page.Chosen()
	if len(page.Errors) > 0 {
		return s.render(w, r, http.StatusUnprocessableEntity, "renew.html", "Renew "+page.License.Name, page)
	}
	ok, err = s.Allow(r, s.Bucket(limitRenewalOrder, "customer-renewal", web.Itoa(c.ID)))
	if err != nil {
		return err
	}
	if !ok {
		page.Errors = []string{"Several renewal orders were placed from your account in the last hour. Wait an hour, then try again, or write to us."}
		return s.render(w, r, http.StatusTooManyRequests, "renew.html", "Renew "+page.License.Name, page)
	}
	shop, err := s.shop(r)
	if err != nil {
		return err
	}
	ctx, now := r.Context(), s.clock.Now()
	// The VAT number is confirmed with VIES, as at checkout, before the
	// transaction (a call over the network); VIES not answering is said on
	// the form and nothing is placed.
	settings, err := tax.Load(ctx, s.db)
	if err != nil {
		return err
	}
	check, err := tax.VerifyFor(ctx, s.vat, settings, page.Billing.Country, page.Billing.VATID, now)
	if rf, ok := refuse.As(err); ok {
		// VIES did not answer: a service we depend on is unavailable.
		page.Errors = append(page.Errors, rf.Msg)
		return s.render(w, r, http.StatusServiceUnavailable, "renew.html", "Renew "+page.License.Name, page)
	}
	if err != nil {
		return err
	}
	_, offline := p.(payments.Offline)
	var order orders.Order
	var placed bool
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		order, placed, err = orders.PlaceRenewal(ctx, tx, orders.NewRenewal{CustomerID: c.ID, License: ren, Provider: p.Name(), Billing: page.Billing, VATCheck: check}, now)
		if err != nil || !placed || !offline {
			return err
		}
		_, err = shop.PlaceManual(ctx, tx, order, now)
		return err
	})
	if e, ok := refuse.As(err); ok && e.Field != "" {
		// Refused for what was typed (the tax check of the VAT number and
		// country): the form again with the message at the field.
		page.Refused([]*refuse.Error{e})
		return s.render(w, r, web.StatusOf(e), "renew.html", "Renew "+page.License.Name, page)
	}
	if err != nil {
		return err
	}
	if !placed {
		// Placed by another request meanwhile.
		http.Redirect(w, r, "/account/orders/"+order.Number+"?done=renewal-waiting", http.StatusSeeOther)
		return nil
	}
	if offline {
		http.Redirect(w, r, "/account/orders/"+order.Number+"?placed=1", http.StatusSeeOther)
		return nil
	}
	started, err := shop.StartHosted(ctx, order, p, c.Email, s.clock.Now)
	if errors.Is(err, orders.ErrCheckoutNotStarted) {
		s.log.LogAttrs(ctx, slog.LevelError, "start renewal checkout", slog.String("error", err.Error()))
		return &web.Error{Status: http.StatusBadGateway, Message: "The payment provider could not be reached, so nothing was charged. Please try again in a few minutes."}
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, started.RedirectURL, http.StatusSeeOther)
	return nil
}

// accountAutoRenew turns the automatic renewal of the license's order off
// (renew=off) or on again (renew=on), asking the processor first.
func (s *handler) accountAutoRenew(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	c, l, ok, err := s.customerLicense(w, r)
	if err != nil || !ok {
		return err
	}
	var renew bool
	switch r.PostForm.Get("renew") {
	case "on":
		renew = true
	case "off":
	default:
		return web.BadRequest("Choose whether the license renews automatically: the form sent neither on nor off.")
	}
	ok, err = s.Allow(r, s.Bucket(limitAutoRenew, "customer-auto-renew", l.LicenseID))
	if err != nil {
		return err
	}
	if !ok {
		return &web.Error{Status: http.StatusTooManyRequests, Message: "The automatic renewal was switched several times in the last hour. Wait an hour, then try again."}
	}
	if l.OrderID == 0 {
		return orders.ErrNoSubscription
	}
	shop, err := s.shop(r)
	if err != nil {
		return err
	}
	if _, err := shop.SetAutoRenew(r.Context(), c.ID, l.OrderID, renew, s.clock.Now()); err != nil {
		if _, ok := refuse.As(err); ok {
			return err
		}
		s.log.LogAttrs(r.Context(), slog.LevelError, "set automatic renewal", slog.String("error", err.Error()))
		return &web.Error{Status: http.StatusBadGateway, Message: "The payment provider could not be reached, so nothing changed. Please try again in a few minutes."}
	}
	done := "auto-renew-off"
	if renew {
		done = "auto-renew-on"
	}
	http.Redirect(w, r, "/account/licenses/"+l.LicenseID+"?done="+done, http.StatusSeeOther)
	return nil
}
