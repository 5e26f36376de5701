package orders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Renewable is a term license bought at a yearly price: what a renewal
// order needs to renew it.
type Renewable struct {
	LicenseID   int64  // the license's row id
	Lic         string // lic_..., as the key says
	Name        string // product and edition names, e.g. "QuillGuard Milter Professional"
	OrderLineID int64  // the line that bought it; 0 when issued by staff
	EditionID   int64
	Quantity    int // the machine-limit multiple it was bought with
	Expires     time.Time
	GraceEnds   time.Time // zero when there is no grace period
}

// Subscription is an automatic renewal at the payment processor: the
// order that started it renews its yearly licenses each period.
type Subscription struct {
	ID                int64
	OrderID           int64
	Provider          string
	Ref               string // the processor's reference (sub_...)
	Status            string // payments.SubscriptionActive, ...PastDue, ...Cancelled
	CancelAtPeriodEnd bool
	PeriodEnd         time.Time // zero until the processor said it
	// StateAt is when the processor created the event the state came
	// from: an older event changes nothing.
	StateAt   time.Time
	CreatedAt time.Time
}

// Renews reports whether the subscription will renew at the end of its
// period.
func (s Subscription) Renews() bool {
	return s.Status != payments.SubscriptionCancelled && !s.CancelAtPeriodEnd
}

const subscriptionColumns = `id, order_id, provider, processor_ref, status, cancel_at_period_end, current_period_end, state_at, created_at`

func scanSubscription(row interface{ Scan(...any) error }) (Subscription, error) {
	var s Subscription
	var end sql.NullTime
	err := row.Scan(&s.ID, &s.OrderID, &s.Provider, &s.Ref, &s.Status, &s.CancelAtPeriodEnd, &end, &s.StateAt, &s.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("read subscription: %w", err)
	}
	if end.Valid {
		s.PeriodEnd = end.Time.UTC()
	}
	s.StateAt, s.CreatedAt = s.StateAt.UTC(), s.CreatedAt.UTC()
	return s, nil
}

// SubscriptionForOrder returns the subscription the order started; ok is
// false when it started none.
func SubscriptionForOrder(ctx context.Context, q db.Querier, orderID int64) (sub Subscription, ok bool, err error) {
	sub, err = scanSubscription(q.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE order_id = $1 ORDER BY id DESC LIMIT 1`, orderID))
	if errors.Is(err, ErrNotFound) {
		return Subscription{}, false, nil
	}
	return sub, err == nil, err
}

// subscriptionState is what an event says of a subscription.
type subscriptionState struct {
	status            string
	cancelAtPeriodEnd bool
	periodEnd         time.Time
	at                time.Time // the event's creation time
}

// recordSubscription creates the order's subscription ref, or brings its
// state up to st unless a newer event set it already. It reports whether
// the state changed.
func recordSubscription(ctx context.Context, tx *sql.Tx, d db.Dialect, o Order, provider, ref string, st subscriptionState, now time.Time) (bool, error) {
	cur, err := scanSubscription(tx.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE provider = $1 AND processor_ref = $2`+d.ForUpdate(), provider, ref))
	if errors.Is(err, ErrNotFound) {
		// The order's subscription whose reference erasure blanked: an
		// event naming it (found by the order number it carries) must not
		// write the reference back.
		var erased int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM subscriptions WHERE order_id = $1 AND processor_ref = ''`, o.ID).Scan(&erased); err != nil {
			return false, fmt.Errorf("record subscription: %w", err)
		}
		if erased > 0 {
			return false, nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO subscriptions (order_id, provider, processor_ref, status, cancel_at_period_end,
			current_period_end, state_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
			o.ID, provider, ref, st.status, st.cancelAtPeriodEnd, nullTime(st.periodEnd), st.at.UTC(), now)
		if err != nil {
			return false, fmt.Errorf("record subscription: %w", err)
		}
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if st.at.Before(cur.StateAt) || cur.Status == payments.SubscriptionCancelled {
		// An older event arrived late, or the subscription ended: an
		// ended subscription never comes back.
		return false, nil
	}
	end := cur.PeriodEnd
	if st.periodEnd.After(end) {
		end = st.periodEnd
	}
	_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET status = $1, cancel_at_period_end = $2, current_period_end = $3,
		state_at = $4, updated_at = $5 WHERE id = $6`, st.status, st.cancelAtPeriodEnd, nullTime(end), st.at.UTC(), now, cur.ID)
	if err != nil {
		return false, fmt.Errorf("record subscription: %w", err)
	}
	return true, nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// applySubscription handles the subscription events of Apply for o, the
// order that started the subscription.
func (s Shop) applySubscription(ctx context.Context, tx *sql.Tx, o *Order, ev payments.Event, now time.Time) (Outcome, string, error) {
	switch ev.Type {
	case payments.SubscriptionChanged, payments.SubscriptionEnded:
		st := subscriptionState{status: ev.SubscriptionStatus, cancelAtPeriodEnd: ev.CancelAtPeriodEnd, periodEnd: ev.PeriodEnd, at: ev.Created}
		if ev.Type == payments.SubscriptionEnded {
			st.status = payments.SubscriptionCancelled
		}
		switch st.status {
		case payments.SubscriptionActive, payments.SubscriptionPastDue, payments.SubscriptionCancelled:
		default:
			return Ignored, "subscription state " + st.status, nil
		}
		changed, err := recordSubscription(ctx, tx, s.DB.Dialect, *o, ev.Provider, ev.SubscriptionRef, st, now)
		if err != nil || !changed {
			return Ignored, "an event newer than this one set the subscription's state", err
		}
		detail := "subscription " + st.status
		if st.cancelAtPeriodEnd && st.status != payments.SubscriptionCancelled {
			detail += ", ends at the end of its period"
		}
		return Applied, "", recordEvent(ctx, tx, o.ID, o.Status, o.Status, ev.Provider+":"+ev.ID, detail, now)
	case payments.RenewalPaid:
		return s.renewalPaid(ctx, tx, o, ev, now)
	case payments.RenewalFailed:
		return s.renewalFailed(ctx, tx, o, ev, now)
	}
	return Ignored, "event type " + string(ev.Type), nil
}

// subscriptionOf returns the subscription ev names, recording it for o
// when o is paid and the processor's event is the first we hear of it.
func (s Shop) subscriptionOf(ctx context.Context, tx *sql.Tx, o *Order, ev payments.Event, now time.Time) (Subscription, error) {
	q := `SELECT ` + subscriptionColumns + ` FROM subscriptions WHERE provider = $1 AND processor_ref = $2`
	sub, err := scanSubscription(tx.QueryRowContext(ctx, q, ev.Provider, ev.SubscriptionRef))
	if !errors.Is(err, ErrNotFound) {
		return sub, err
	}
	if _, err := recordSubscription(ctx, tx, s.DB.Dialect, *o, ev.Provider, ev.SubscriptionRef,
		subscriptionState{status: payments.SubscriptionActive, at: time.Time{}}, now); err != nil {
		return sub, err
	}
	sub, err = scanSubscription(tx.QueryRowContext(ctx, q, ev.Provider, ev.SubscriptionRef))
	if errors.Is(err, ErrNotFound) {
		return sub, errSubscriptionErased // recordSubscription refused to write an erased reference back
	}
	return sub, err
}

// errSubscriptionErased: the event names a subscription whose reference
// erasure blanked.
var errSubscriptionErased = errors.New("the subscription's reference was erased")

// renewalPaid records a paid renewal as an order of its own, paid, with
// our invoice, whose lines renew the subscription's licenses to the end of
// the period paid for, and queues the confirmation: all in tx.
func (s Shop) renewalPaid(ctx context.Context, tx *sql.Tx, o *Order, ev payments.Event, now time.Time) (Outcome, string, error) {
	if o.Status == Pending || o.Status == Cancelled {
		return Deferred, "the order that started the subscription is not paid yet", nil
	}
	if ev.InvoiceRef == "" || ev.PeriodEnd.IsZero() {
		return Ignored, "the renewal names no invoice or period", nil
	}
	if existing, err := scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE processor_invoice = $1`, ev.InvoiceRef)); err == nil {
		return Ignored, "invoice " + ev.InvoiceRef + " is recorded as order " + existing.Number, nil
	} else if !errors.Is(err, ErrNotFound) {
		return "", "", err
	}
	if _, err := s.subscriptionOf(ctx, tx, o, ev, now); errors.Is(err, errSubscriptionErased) {
		return Ignored, err.Error(), nil
	} else if err != nil {
		return "", "", err
	}
	if s.Licenses == nil {
		return Ignored, "this site issues no licenses", nil
	}
	lics, err := s.Licenses.Renewable(ctx, tx, o.ID, now)
	if err != nil {
		return "", "", err
	}
	if len(lics) == 0 {
		return Ignored, "the order has no yearly license to renew", nil
	}
	// The subscription charges what its first order's lines cost, so the
	// renewal repeats them, tax and all, under the treatment that order
	// was taxed with (its snapshot, not today's settings).
	var lines []Line
	var subtotal, taxSum, gross int64
	for _, l := range lics {
		ln, err := originalLine(ctx, tx, l.OrderLineID)
		if err != nil {
			return "", "", err
		}
		ln.RenewsLicenseID, ln.PeriodStart, ln.PeriodEnd = l.LicenseID, ev.PeriodStart, ev.PeriodEnd
		ln.Description = renewalDescription(ln.Description)
		if !o.Tax.Computed() {
			ln.NetMinor, ln.TaxMinor, ln.TaxRateBP = ln.UnitMinor*int64(ln.Quantity), 0, 0
		}
		subtotal += ln.NetMinor
		taxSum += ln.TaxMinor
		gross += ln.GrossMinor()
		lines = append(lines, ln)
	}
	mismatch := !strings.EqualFold(ev.Currency, o.Currency) || ev.AmountMinor < subtotal
	if o.Tax.Computed() {
		// Our tax: Stripe charges exactly the lines' grosses.
		mismatch = mismatch || ev.AmountMinor != gross
	} else {
		// No tax of ours: what was charged above the licenses' cost is
		// the processor's tax.
		taxSum, gross = ev.AmountMinor-subtotal, ev.AmountMinor
	}
	if mismatch {
		// Not what the licenses cost (a coupon, a price changed at the
		// processor): a person decides, as for a checkout.
		want := subtotal
		if o.Tax.Computed() {
			want = gross
		}
		return Mismatch, fmt.Sprintf("renewal paid %s, licenses renewed cost %s", catalog.FormatMoney(ev.AmountMinor, strings.ToUpper(ev.Currency)),
			catalog.FormatMoney(want, o.Currency)), nil
	}
	r, err := insertOrder(ctx, tx, Order{
		Number: newNumber(), CustomerID: o.CustomerID, Status: Pending, Provider: o.Provider, Currency: o.Currency,
		SubtotalMinor: subtotal, TaxMinor: taxSum, TotalMinor: gross, Billing: o.Billing,
		ProcessorPayment: ev.PaymentRef, ProcessorCustomer: ev.CustomerRef, ProcessorInvoice: ev.InvoiceRef,
		CreatedAt: now, UpdatedAt: now, Lines: lines, Tax: o.Tax,
	}, ev.Provider+":"+ev.ID, "renewal of order "+o.Number+" ("+ev.SubscriptionRef+")")
	if err != nil {
		return "", "", err
	}
	if r.Tax.Treatment == TaxProcessor && ev.TaxReported {
		if ok, err := processorTax(ctx, tx, &r, ev.AmountMinor, ev.TaxMinor); err != nil {
			return "", "", err
		} else if !ok {
			return Mismatch, fmt.Sprintf("renewal paid %s with tax %s, which does not fit the licenses' %s", catalog.FormatMoney(ev.AmountMinor, o.Currency),
				catalog.FormatMoney(ev.TaxMinor, o.Currency), catalog.FormatMoney(subtotal, o.Currency)), nil
		}
	}
	if err := s.fulfil(ctx, tx, &r, ev.Provider+":"+ev.ID, "renewal paid", now); err != nil {
		return "", "", err
	}
	if _, err := recordSubscription(ctx, tx, s.DB.Dialect, *o, ev.Provider, ev.SubscriptionRef,
		subscriptionState{status: payments.SubscriptionActive, periodEnd: ev.PeriodEnd, at: ev.Created}, now); err != nil {
		return "", "", err
	}
	return Applied, "renewed by order " + r.Number, recordEvent(ctx, tx, o.ID, o.Status, o.Status, ev.Provider+":"+ev.ID,
		"renewal paid: order "+r.Number, now)
}

// renewalFailed marks the subscription past due and tells the buyer once
// per invoice: the licenses run out at the end of the paid period, then
// their grace period runs, and the processor tries the payment again.
func (s Shop) renewalFailed(ctx context.Context, tx *sql.Tx, o *Order, ev payments.Event, now time.Time) (Outcome, string, error) {
	if o.Status == Pending || o.Status == Cancelled {
		return Deferred, "the order that started the subscription is not paid yet", nil
	}
	if ev.InvoiceRef != "" {
		if paid, err := scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE processor_invoice = $1`, ev.InvoiceRef)); err == nil {
			return Ignored, "invoice " + ev.InvoiceRef + " was paid meanwhile (order " + paid.Number + ")", nil
		} else if !errors.Is(err, ErrNotFound) {
			return "", "", err
		}
	}
	sub, err := s.subscriptionOf(ctx, tx, o, ev, now)
	if errors.Is(err, errSubscriptionErased) {
		return Ignored, err.Error(), nil
	}
	if err != nil {
		return "", "", err
	}
	if sub.Status == payments.SubscriptionCancelled {
		return Ignored, "the subscription has ended", nil
	}
	if _, err := recordSubscription(ctx, tx, s.DB.Dialect, *o, ev.Provider, ev.SubscriptionRef,
		subscriptionState{status: payments.SubscriptionPastDue, cancelAtPeriodEnd: sub.CancelAtPeriodEnd, at: ev.Created}, now); err != nil {
		return "", "", err
	}
	cause := ev.Provider + ":" + ev.ID
	if err := recordEvent(ctx, tx, o.ID, o.Status, o.Status, cause, "renewal payment failed", now); err != nil {
		return "", "", err
	}
	if strings.TrimSpace(o.Billing.Email) == "" {
		return Applied, "", recordEvent(ctx, tx, o.ID, o.Status, o.Status, cause, "renewal failure not told: the buyer's address was erased", now)
	}
	var lics []Renewable
	if s.Licenses != nil {
		if lics, err = s.Licenses.Renewable(ctx, tx, o.ID, now); err != nil {
			return "", "", err
		}
	}
	m, err := s.renewalFailedMail(*o, lics)
	if err != nil {
		return "", "", err
	}
	m.DedupKey = "renewal-failed:" + ev.Provider + ":" + ev.InvoiceRef
	if ev.InvoiceRef == "" {
		m.DedupKey = "renewal-failed:" + ev.Provider + ":" + ev.ID
	}
	_, err = mail.Enqueue(ctx, tx, m, now)
	switch {
	case errors.Is(err, mail.ErrNotPermitted):
		return Applied, "", recordEvent(ctx, tx, o.ID, o.Status, o.Status, cause, "renewal failure not told: the customer restricted processing", now)
	case errors.Is(err, mail.ErrDuplicate):
		err = nil
	}
	return Applied, "", err
}

func (s Shop) renewalFailedMail(o Order, lics []Renewable) (mail.Message, error) {
	data := mail.RenewalFailedData{SiteName: s.SiteName, OrderNumber: o.Number, AccountURL: s.BaseURL + "/account/licenses"}
	for _, l := range lics {
		rl := mail.RenewalLicense{Name: l.Name, License: l.Lic, Expires: longDate(l.Expires)}
		if !l.GraceEnds.IsZero() {
			rl.GraceEnds = longDate(l.GraceEnds)
		}
		data.Licenses = append(data.Licenses, rl)
	}
	m, err := mail.Compose("renewal_failed", o.Billing.Email, data)
	m.CustomerID, m.Purpose = o.CustomerID, "delivery"
	return m, err
}

func longDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 January 2006")
}

// renewalDescription names a renewal line after the line it renews.
func renewalDescription(d string) string {
	d = strings.TrimSuffix(d, " (yearly)")
	d = strings.TrimSuffix(d, " (yearly renewal)")
	return d + " (yearly renewal)"
}

// originalLine reads the order line that bought a license, for its
// renewal to repeat.
func originalLine(ctx context.Context, tx *sql.Tx, lineID int64) (Line, error) {
	var l Line
	var price sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT price_id, description, billing, unit_minor, quantity, net_minor, tax_minor, tax_rate_bp
		FROM order_lines WHERE id = $1`, lineID).
		Scan(&price, &l.Description, &l.Billing, &l.UnitMinor, &l.Quantity, &l.NetMinor, &l.TaxMinor, &l.TaxRateBP)
	if errors.Is(err, sql.ErrNoRows) {
		return l, ErrNotFound.With("The order line of the license to renew is gone.")
	}
	if err != nil {
		return l, fmt.Errorf("read the line to renew: %w", err)
	}
	l.PriceID = price.Int64
	return l, nil
}

// insertOrder stores a new order with its lines and the first entry of
// its history.
func insertOrder(ctx context.Context, tx *sql.Tx, o Order, cause, placed string) (Order, error) {
	var customer any
	if o.CustomerID != 0 {
		customer = o.CustomerID
	}
	b := o.Billing
	err := tx.QueryRowContext(ctx, `INSERT INTO orders (number, customer_id, status, provider, currency, subtotal_minor, tax_minor, total_minor,
		billing_email, billing_name, billing_company, billing_address, billing_country, billing_vat_id, created_at, updated_at,
		processor_payment, processor_customer, processor_invoice, tax_treatment, tax_country, seller_vat_id, prices_include_tax, vat_check)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $17, $18, $19, $20, $21, $22, $23) RETURNING id`,
		o.Number, customer, string(o.Status), o.Provider, o.Currency, o.SubtotalMinor, o.TaxMinor, o.TotalMinor,
		b.Email, b.Name, b.Company, b.Address, b.Country, b.VATID, o.CreatedAt, o.ProcessorPayment, o.ProcessorCustomer, o.ProcessorInvoice,
		string(o.Tax.Treatment), o.Tax.Country, o.Tax.SellerVATID, o.Tax.PricesIncludeTax, o.Tax.VATCheck).Scan(&o.ID)
	if err != nil {
		return Order{}, fmt.Errorf("create order: %w", err)
	}
	for i, l := range o.Lines {
		// A line without computed tax costs its unit price times the
		// quantity, before tax.
		if l.NetMinor == 0 && l.TaxMinor == 0 {
			l.NetMinor = l.UnitMinor * int64(l.Quantity)
			o.Lines[i].NetMinor = l.NetMinor
		}
		var price, renews any
		if l.PriceID != 0 {
			price = l.PriceID
		}
		if l.RenewsLicenseID != 0 {
			renews = l.RenewsLicenseID
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO order_lines (order_id, price_id, description, billing, unit_minor, quantity,
			renews_license_id, period_start, period_end, net_minor, tax_minor, tax_rate_bp) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			RETURNING id`,
			o.ID, price, l.Description, string(l.Billing), l.UnitMinor, l.Quantity, renews, nullTime(l.PeriodStart), nullTime(l.PeriodEnd),
			l.NetMinor, l.TaxMinor, l.TaxRateBP).Scan(&o.Lines[i].ID)
		if err != nil {
			return Order{}, fmt.Errorf("create order line: %w", err)
		}
	}
	if err := recordEvent(ctx, tx, o.ID, "", o.Status, cause, placed, o.CreatedAt); err != nil {
		return Order{}, err
	}
	return o, nil
}

// Refusals of SetAutoRenew.
var (
	ErrNoSubscription    = refuse.New(refuse.NotFound, "no_subscription", "This order renews nothing automatically.")
	ErrSubscriptionEnded = refuse.New(refuse.Conflict, "subscription_ended",
		"The automatic renewal of this order has ended. Renew the license from its page instead.")
)

// SetAutoRenew turns the automatic renewal started by the customer's order
// off (renew false: the licenses run to the end of the paid period and are
// not charged again) or on again. The processor is asked first; only what
// it accepted is recorded, with the change in the order's history. Its
// webhook event confirms the same state later.
func (s Shop) SetAutoRenew(ctx context.Context, customerID, orderID int64, renew bool, now time.Time) (Subscription, error) {
	o, err := ByID(ctx, s.DB, orderID)
	if err != nil {
		return Subscription{}, err
	}
	if customerID == 0 || o.CustomerID != customerID {
		return Subscription{}, ErrNotFound
	}
	sub, ok, err := SubscriptionForOrder(ctx, s.DB, o.ID)
	if err != nil {
		return Subscription{}, err
	}
	switch {
	case !ok || sub.Ref == "":
		return Subscription{}, ErrNoSubscription
	case sub.Status == payments.SubscriptionCancelled:
		return Subscription{}, ErrSubscriptionEnded
	case sub.CancelAtPeriodEnd == !renew:
		return sub, nil
	}
	p, ok := s.provider(sub.Provider).(payments.Subscriber)
	if !ok {
		return Subscription{}, ErrProviderGone
	}
	if err := p.SetRenewal(ctx, sub.Ref, renew); err != nil {
		return Subscription{}, err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET cancel_at_period_end = $1, updated_at = $2 WHERE id = $3 AND status <> 'cancelled'`,
			!renew, now, sub.ID)
		if err != nil {
			return fmt.Errorf("record automatic renewal: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrSubscriptionEnded
		}
		detail := "automatic renewal turned off by the customer"
		if renew {
			detail = "automatic renewal turned on again by the customer"
		}
		return recordEvent(ctx, tx, o.ID, o.Status, o.Status, "customer", detail, now)
	})
	sub.CancelAtPeriodEnd = !renew
	return sub, err
}
