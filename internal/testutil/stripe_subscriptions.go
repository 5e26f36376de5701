package testutil

import (
	"strings"
	"time"
)

// StripeInvoice describes a subscription invoice of a test event.
type StripeInvoice struct {
	ID            string // "in_..."; "" makes one up
	Subscription  string // "sub_..."
	OrderNumber   string // the subscription's metadata order_number
	Customer      string
	BillingReason string // "subscription_cycle" when empty
	AmountPaid    int64
	Total         int64
	Currency      string
	PeriodStart   time.Time // the service period its line bills
	PeriodEnd     time.Time
	PaymentIntent string // listed under payments when set
}

// StripeInvoiceEvent returns the JSON of an invoice.* event (invoice.paid,
// invoice.payment_failed) about inv, shaped as Stripe's API version
// stripe-go reads renders it (the subscription under parent).
func StripeInvoiceEvent(eventID, eventType string, inv StripeInvoice) []byte {
	if inv.ID == "" {
		inv.ID = "in_" + randHex(12)
	}
	if inv.BillingReason == "" {
		inv.BillingReason = "subscription_cycle"
	}
	status := "paid"
	if eventType != "invoice.paid" {
		status = "open"
	}
	obj := map[string]any{
		"id":             inv.ID,
		"object":         "invoice",
		"billing_reason": inv.BillingReason,
		"status":         status,
		"customer":       inv.Customer,
		"currency":       strings.ToLower(inv.Currency),
		"amount_paid":    inv.AmountPaid,
		"amount_due":     inv.Total,
		"total":          inv.Total,
		"livemode":       false,
		"metadata":       map[string]string{},
		"parent": map[string]any{
			"type": "subscription_details",
			"subscription_details": map[string]any{
				"subscription": inv.Subscription,
				"metadata":     map[string]string{"order_number": inv.OrderNumber},
			},
		},
		"lines": map[string]any{
			"object": "list",
			"data": []any{map[string]any{
				"id":       "il_" + randHex(12),
				"object":   "line_item",
				"amount":   inv.Total,
				"currency": strings.ToLower(inv.Currency),
				"period":   map[string]any{"start": inv.PeriodStart.Unix(), "end": inv.PeriodEnd.Unix()},
			}},
			"has_more": false,
		},
	}
	if inv.PaymentIntent != "" {
		obj["payments"] = map[string]any{"object": "list", "has_more": false, "data": []any{map[string]any{
			"id": "inpay_" + randHex(12), "object": "invoice_payment", "status": "paid",
			"payment": map[string]any{"type": "payment_intent", "payment_intent": inv.PaymentIntent},
		}}}
	}
	return StripeEventJSON(eventID, eventType, obj)
}

// StripeSubscription describes a subscription of a test event.
type StripeSubscription struct {
	ID                string
	Status            string // "active", "past_due", "canceled", ...
	CancelAtPeriodEnd bool
	OrderNumber       string // metadata order_number
	Customer          string
	PeriodEnd         time.Time // the item's current_period_end
}

// StripeSubscriptionEvent returns the JSON of a customer.subscription.*
// event (updated, deleted) about sub.
func StripeSubscriptionEvent(eventID, eventType string, sub StripeSubscription) []byte {
	return StripeEventJSON(eventID, eventType, map[string]any{
		"id":                   sub.ID,
		"object":               "subscription",
		"status":               sub.Status,
		"cancel_at_period_end": sub.CancelAtPeriodEnd,
		"customer":             sub.Customer,
		"livemode":             false,
		"metadata":             map[string]string{"order_number": sub.OrderNumber},
		"items": map[string]any{"object": "list", "has_more": false, "data": []any{map[string]any{
			"id": "si_" + randHex(12), "object": "subscription_item",
			"current_period_start": sub.PeriodEnd.AddDate(-1, 0, 0).Unix(), "current_period_end": sub.PeriodEnd.Unix(),
		}}},
	})
}
