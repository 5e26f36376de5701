package checkout

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/tax"
	"github.com/storekeep/storekeep/internal/web"
)

// shop is the order processing of this site.
func (s *handler) shop(r *http.Request) (orders.Shop, error) {
	v, err := s.Vendor(r)
	if err != nil {
		return orders.Shop{}, err
	}
	shop := orders.NewShop(s.db, v.Name, v.SupportEmail, s.BaseURL().String(), s.payments, s.paymentInstructions, s.licenses)
	shop.Signals = s.signals
	return shop, nil
}

// checkoutPage is the content of checkout.html.
type checkoutPage struct {
	web.PayForm
	Offer   orders.Offer
	Billing orders.Billing
	// SaveProfile is the "save these details to my profile" box.
	SaveProfile bool
	// Quote is the order as it would be placed, with its tax, for the
	// details given; nil until the details give one (a country).
	Quote *orders.Order
	// Changed says the total differs from the one the page showed: the
	// buyer confirms the new one before anything is placed.
	Changed bool
	// Tax are the vendor's tax settings, for the page's wording.
	Tax tax.Settings
	// VIES says VAT numbers are confirmed with the EU's VIES service.
	VIES bool
}

// QuotedTotal is the total the page shows, sent back with the form so a
// change (another country, a VAT number) is confirmed before placing.
func (p checkoutPage) QuotedTotal() string {
	if p.Quote == nil {
		return ""
	}
	return strconv.FormatInt(p.Quote.TotalMinor, 10) + " " + p.Quote.Currency
}

// quote fills in page.Quote from the details on the page: the tax is
// computed as Create will compute it. check is the VAT number's check
// (the zero Check when none was made). A refusal (a VAT number of another
// country, one VIES does not know) is added to the form; nil page.Quote
// then. settings are the vendor's tax settings, loaded once per request.
func (s *handler) quote(r *http.Request, page *checkoutPage, settings tax.Settings, provider string, check tax.Check) error {
	page.Tax, page.VIES = settings, s.vat != nil
	if page.Billing.Country == "" {
		return nil
	}
	q, err := orders.Preview(r.Context(), s.db, orders.NewOrder{PriceID: page.Offer.Price.ID, Provider: provider,
		Billing: page.Billing, VATCheck: check}, s.clock.Now())
	if rf, ok := refuse.As(err); ok && rf.Field != "" {
		page.Refused([]*refuse.Error{rf})
		return nil
	}
	if errors.Is(err, orders.ErrBadBilling) {
		return nil // shown by the form's own checks
	}
	if err != nil {
		return err
	}
	page.Quote = &q
	return nil
}

// verifyVAT checks the buyer's VAT number with VIES when it is on (before
// any transaction: it is a call over the network, bounded by its
// timeout). VIES not answering is said on the form and nothing is placed.
func (s *handler) verifyVAT(r *http.Request, page *checkoutPage, settings tax.Settings) (tax.Check, bool, error) {
	if s.vat == nil || page.Billing.VATID == "" || page.FieldErrors["vat_id"] != "" || page.FieldErrors["country"] != "" {
		return tax.Check{}, true, nil
	}
	check, err := tax.VerifyFor(r.Context(), s.vat, settings, page.Billing.Country, page.Billing.VATID, s.clock.Now())
	if rf, ok := refuse.As(err); ok {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "vies unavailable")
		page.Errors = append(page.Errors, rf.Msg)
		return tax.Check{}, false, nil
	}
	return check, err == nil, err
}

// offer reads the price a checkout link or form names: a bad link is a
// 400, a price no longer on sale a 404 (both refusals of orders), a
// database error a 500.
func (s *handler) offer(r *http.Request, raw string) (orders.Offer, error) {
	id, err := orders.ParsePriceID(raw)
	if err != nil {
		return orders.Offer{}, err
	}
	return orders.FindOffer(r.Context(), s.db, id)
}

func (s *handler) checkoutForm(w http.ResponseWriter, r *http.Request) error {
	o, err := s.offer(r, r.URL.Query().Get("price"))
	if err != nil {
		return err
	}
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	page := checkoutPage{Offer: o, PayForm: web.PayForm{Methods: s.payments}, Billing: orders.Billing{
		Email: c.Email, Name: c.Name, Company: c.Company, Address: orders.ProfileAddress(c.Profile), Country: c.Country, VATID: c.VATID}}
	if len(s.payments) > 0 {
		page.Method = s.payments[0].Name()
	}
	// The profile's details give a first quote (VAT number by its format;
	// VIES is asked when the buyer shows the total or places the order).
	if b, probs := page.Billing.Check(); len(probs) == 0 {
		page.Billing = b
	}
	page.FieldErrors = map[string]string{}
	settings, err := tax.Load(r.Context(), s.db)
	if err != nil {
		return err
	}
	if err := s.quote(r, &page, settings, page.Method, tax.Check{}); err != nil {
		return err
	}
	page.Errors, page.FieldErrors = nil, nil // the profile is not the buyer's form: nothing is refused yet
	return s.render(w, r, http.StatusOK, "checkout.html", "Checkout", page)
}

// placedPage is the content of placed.html: the order is placed, but the
// billing details could not be saved to the profile as the buyer asked.
type placedPage struct {
	Order   orders.Order
	Problem string
	// PayURL is the processor's payment page to go on to; "" when the
	// order is paid by transfer (the invoice is on its way).
	PayURL string
}

// checkout places the order and hands the buyer to the payment provider.
// Amount and currency come from the catalog by price ID; a tampered form
// can choose another active price at most, never another amount.
func (s *handler) checkout(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	o, err := s.offer(r, r.PostForm.Get("price"))
	if err != nil {
		return err
	}
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	f := r.PostForm.Get
	// The method and the box are compared with fixed values, so no typed
	// text of theirs is stored or shown; the billing details go through
	// package input (orders.Billing.Check).
	page := checkoutPage{Offer: o, PayForm: web.PayForm{Methods: s.payments, Method: f("method"), FieldErrors: map[string]string{}},
		SaveProfile: f("save_profile") == "on"}
	var probs []*refuse.Error
	page.Billing, probs = orders.Billing{Email: c.Email, Name: f("name"), Company: f("company"),
		Address: f("address"), Country: f("country"), VATID: f("vat_id")}.Check()
	page.Refused(probs)
	settings, err := tax.Load(ctx, s.db)
	if err != nil {
		return err
	}
	check, answered, err := s.verifyVAT(r, &page, settings)
	if err != nil {
		return err
	}
	if !answered {
		// VIES did not answer: said on the form, nothing placed.
		return s.render(w, r, http.StatusServiceUnavailable, "checkout.html", "Checkout", page)
	}
	method := f("method")
	if web.Provider(s.payments, method) == nil {
		method = ""
	}
	if len(page.Errors) == 0 {
		if err := s.quote(r, &page, settings, method, check); err != nil {
			return err
		}
	}
	if f("action") == "quote" {
		// "Show the total": the page again with the tax for the details
		// given, nothing placed (the way to see it without JavaScript).
		page.Method = method
		status := http.StatusOK
		if len(page.Errors) > 0 {
			status = http.StatusUnprocessableEntity
		}
		return s.render(w, r, status, "checkout.html", "Checkout", page)
	}
	p := page.Chosen()
	if len(page.Errors) > 0 {
		return s.render(w, r, http.StatusUnprocessableEntity, "checkout.html", "Checkout", page)
	}
	if quoted := f("quoted"); quoted != "" && quoted != page.QuotedTotal() {
		// The buyer saw another total (the details changed since): show
		// the new one and let them place the order with it.
		page.Changed = true
		return s.render(w, r, http.StatusOK, "checkout.html", "Checkout", page)
	}
	shop, err := s.shop(r)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	_, offline := p.(payments.Offline)
	var order orders.Order
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		// A staff member's standing decision on a fraud review case may
		// block this customer's purchases (internal/fraud); nothing else
		// refuses an order here.
		if err := fraud.PurchaseBlocked(ctx, tx, c.ID); err != nil {
			return err
		}
		var err error
		order, err = orders.Create(ctx, tx, orders.NewOrder{CustomerID: c.ID, PriceID: o.Price.ID, Provider: p.Name(), Billing: page.Billing, VATCheck: check}, now)
		if err != nil {
			return err
		}
		// Signals for a person to review; the order goes on as placed.
		if err := s.fraud.Order(ctx, tx, s.db.Dialect, order, web.ClientIP(r), now); err != nil {
			return err
		}
		if offline {
			_, err = shop.PlaceManual(ctx, tx, order, now)
		}
		return err
	})
	if err != nil {
		return err
	}
	// The order stands whatever happens to the profile: saving is a
	// convenience the buyer asked for, in a transaction of its own.
	var problem string
	if page.SaveProfile {
		problem = s.saveProfile(r, c.ID, page.Billing)
	}
	if offline {
		if problem != "" {
			return s.render(w, r, http.StatusOK, "placed.html", "Order placed", placedPage{Order: order, Problem: problem})
		}
		http.Redirect(w, r, "/account/orders/"+order.Number+"?placed=1", http.StatusSeeOther)
		return nil
	}
	started, err := shop.StartHosted(ctx, order, p, c.Email, s.clock.Now)
	if errors.Is(err, orders.ErrCheckoutNotStarted) {
		s.log.LogAttrs(ctx, slog.LevelError, "start checkout", slog.String("error", err.Error()))
		return &web.Error{Status: http.StatusBadGateway, Message: "The payment provider could not be reached, so nothing was charged. Please try again in a few minutes."}
	}
	if err != nil {
		return err
	}
	if problem != "" {
		return s.render(w, r, http.StatusOK, "placed.html", "Order placed", placedPage{Order: order, Problem: problem, PayURL: started.RedirectURL})
	}
	http.Redirect(w, r, started.RedirectURL, http.StatusSeeOther)
	return nil
}

// saveProfile stores the checkout's billing details as the customer's
// profile and returns "" or what stopped it, for the buyer. A failure of
// ours is logged and said in general words: the order is placed either way.
func (s *handler) saveProfile(r *http.Request, customerID int64, b orders.Billing) string {
	ctx := r.Context()
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := orders.SaveToProfile(ctx, tx, customerID, b, s.clock.Now())
		return err
	})
	if err == nil {
		return ""
	}
	if rf, ok := refuse.As(err); ok {
		return rf.Msg
	}
	s.log.LogAttrs(ctx, slog.LevelError, "save billing details to profile", slog.String("error", err.Error()))
	return "Something went wrong on our side while saving them."
}

// stripeWebhook receives Stripe's signed events. A bad signature is refused
// with 400 and changes nothing; genuine events are applied once.
func (s *handler) stripeWebhook(w http.ResponseWriter, r *http.Request) error {
	if s.stripeWebhooks == nil {
		return web.NotFound("Stripe is not configured on this site.")
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	ev, err := s.stripeWebhooks.ParseWebhook(payload, r.Header.Get("Stripe-Signature"))
	switch {
	case errors.Is(err, payments.ErrIgnored):
		w.WriteHeader(http.StatusOK)
		return nil
	case errors.Is(err, payments.ErrAPIVersion):
		// Genuine but unreadable: the endpoint in Stripe's dashboard uses
		// another API version. A 500 makes Stripe retry while the operator
		// fixes it (docs/payments.md).
		return fmt.Errorf("stripe webhook: %w; set the endpoint's API version as docs/payments.md says", err)
	case err != nil:
		// Logged without the payload: it can hold an email address.
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "stripe webhook refused", slog.String("reason", "signature invalid or too old"))
		return web.BadRequest("The webhook signature is invalid or too old.")
	}
	if pf, ok := s.stripeWebhooks.(payments.PaymentFinder); ok && ev.Type == payments.RenewalPaid && ev.PaymentRef == "" && ev.InvoiceRef != "" {
		// Stripe leaves an invoice's payments out of the event: ask, so a
		// refund of the renewal finds its order. Without the answer the
		// renewal is still applied (finance matches such a refund by hand).
		if ev.PaymentRef, err = pf.InvoicePayment(r.Context(), ev.InvoiceRef); err != nil {
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "renewal's payment not found", slog.String("event", ev.ID), slog.String("error", err.Error()))
		}
	}
	shop, err := s.shop(r)
	if err != nil {
		return err
	}
	out, err := shop.Apply(r.Context(), ev, s.clock.Now())
	if err != nil {
		return fmt.Errorf("apply stripe event %s: %w", ev.ID, err)
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "payment event", slog.String("provider", "stripe"),
		slog.String("type", string(ev.Type)), slog.String("outcome", string(out)))
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]string{"outcome": string(out)})
}
