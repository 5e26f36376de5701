package checkout

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/web"
)

// shop is the order processing of this site.
func (s *handler) shop(r *http.Request) (orders.Shop, error) {
	v, err := s.Vendor(r)
	if err != nil {
		return orders.Shop{}, err
	}
	instr := s.paymentInstructions
	if instr == "" {
		instr = "Bank details are on the invoice in your account. Write to " + v.SupportEmail + " with any question."
	}
	return orders.Shop{DB: s.db, SiteName: v.Name, BaseURL: s.BaseURL().String(), PaymentInstructions: instr, Providers: s.payments}, nil
}

func (s *handler) provider(name string) payments.Provider {
	for _, p := range s.payments {
		if p.Name() == name {
			return p
		}
	}
	return nil
}

// offer is one price as the checkout page shows it.
type offer struct {
	PriceID                 int64
	Product, Edition        string
	Amount, Per, Currency   string
	AmountMinor             int64
	Billing                 catalog.Billing
	ProductSlug, EditionSlg string
}

// findOffer reads an active price with its edition and product.
func (s *handler) findOffer(ctx context.Context, raw string) (offer, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return offer{}, web.BadRequest("Choose an edition on a product page; this checkout link is incomplete.")
	}
	var o offer
	err = s.db.QueryRowContext(ctx, `SELECT pr.id, pr.currency, pr.amount_minor, pr.billing, p.name, p.slug, e.name, e.slug
		FROM prices pr JOIN editions e ON e.id = pr.edition_id JOIN products p ON p.id = e.product_id
		WHERE pr.id = $1 AND pr.active AND e.active AND p.active`, id).
		Scan(&o.PriceID, &o.Currency, &o.AmountMinor, &o.Billing, &o.Product, &o.ProductSlug, &o.Edition, &o.EditionSlg)
	if errors.Is(err, sql.ErrNoRows) {
		return offer{}, &web.Error{Status: http.StatusNotFound, Message: "This edition or price is not on sale any more. Choose another on the pricing page."}
	}
	if err != nil {
		return offer{}, err
	}
	p := catalog.Price{Currency: o.Currency, AmountMinor: o.AmountMinor, Billing: o.Billing}
	o.Amount, o.Per = p.Amount(), p.Per()
	return o, nil
}

// checkoutPage is the content of checkout.html.
type checkoutPage struct {
	Offer   offer
	Billing orders.Billing
	Methods []payments.Provider
	Method  string
	Errors  []string
}

func (s *handler) checkoutForm(w http.ResponseWriter, r *http.Request) error {
	o, err := s.findOffer(r.Context(), r.URL.Query().Get("price"))
	if err != nil {
		return err
	}
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	page := checkoutPage{Offer: o, Methods: s.payments, Billing: orders.Billing{
		Email: c.Email, Name: c.Name, Company: c.Company, Address: postalAddress(c.Profile), Country: c.Country, VATID: c.VATID}}
	if len(s.payments) > 0 {
		page.Method = s.payments[0].Name()
	}
	return s.render(w, r, http.StatusOK, "checkout.html", "Checkout", page)
}

// checkout places the order and hands the buyer to the payment provider.
// Amount and currency come from the catalog by price ID; a tampered form
// can choose another active price at most, never another amount.
func (s *handler) checkout(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	ctx := r.Context()
	o, err := s.findOffer(ctx, r.PostForm.Get("price"))
	if err != nil {
		return err
	}
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	f := r.PostForm.Get
	page := checkoutPage{Offer: o, Methods: s.payments, Method: f("method")}
	page.Billing, page.Errors = orders.Billing{Email: c.Email, Name: f("name"), Company: f("company"),
		Address: f("address"), Country: f("country"), VATID: f("vat_id")}.Clean()
	p := s.provider(page.Method)
	if p == nil {
		page.Errors = append(page.Errors, "Choose a way to pay.")
	}
	if len(page.Errors) > 0 {
		return s.render(w, r, http.StatusUnprocessableEntity, "checkout.html", "Checkout", page)
	}
	shop, err := s.shop(r)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	var order orders.Order
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		order, err = orders.Create(ctx, tx, orders.NewOrder{CustomerID: c.ID, PriceID: o.PriceID, Provider: p.Name(), Billing: page.Billing}, now)
		if err != nil {
			return err
		}
		if _, offline := p.(payments.Offline); offline {
			_, err = shop.PlaceManual(ctx, tx, order, now)
		}
		return err
	})
	if errors.Is(err, orders.ErrUnavailable) {
		return &web.Error{Status: http.StatusNotFound, Message: err.Error()}
	}
	if err != nil {
		return err
	}
	portal := s.BaseURL().String() + "/account/orders/" + order.Number
	if _, offline := p.(payments.Offline); offline {
		http.Redirect(w, r, "/account/orders/"+order.Number+"?placed=1", http.StatusSeeOther)
		return nil
	}
	lines := make([]payments.Line, len(order.Lines))
	for i, l := range order.Lines {
		lines[i] = payments.Line{Name: l.Description, AmountMinor: l.UnitMinor, Currency: order.Currency, Quantity: l.Quantity}
	}
	started, err := p.StartCheckout(ctx, payments.Checkout{OrderID: order.ID, OrderNumber: order.Number, CustomerEmail: c.Email,
		Lines: lines, SuccessURL: portal + "?paid=1", CancelURL: portal})
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "start checkout", slog.String("provider", p.Name()), slog.String("error", err.Error()))
		if cerr := shop.Cancel(ctx, order.ID, "system", "the payment provider could not be reached", s.clock.Now()); cerr != nil {
			return cerr
		}
		return &web.Error{Status: http.StatusBadGateway, Message: "The payment provider could not be reached, so nothing was charged. Please try again in a few minutes."}
	}
	if err := s.db.Tx(ctx, func(tx *sql.Tx) error { return orders.SetSession(ctx, tx, order.ID, started.SessionRef, s.clock.Now()) }); err != nil {
		return err
	}
	http.Redirect(w, r, started.RedirectURL, http.StatusSeeOther)
	return nil
}

// postalAddress writes a profile's address as the lines of an envelope
// (without the country, which the form asks for separately).
func postalAddress(p customers.Profile) string {
	var lines []string
	for _, l := range []string{p.AddressLine1, p.AddressLine2, strings.TrimSpace(p.PostalCode + " " + p.City), p.Region} {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
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
