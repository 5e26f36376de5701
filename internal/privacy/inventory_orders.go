package privacy

// ordersPart declares orders, invoices and processed payment events, and
// the payment processor that receives buyers' data.
var ordersPart = Inventory{
	Recipients: []Recipient{
		{ID: "stripe", Name: "Stripe",
			Role:       "takes card payments on its own hosted checkout page; card details go to Stripe only, never to us",
			Location:   "Ireland (Stripe Payments Europe) and the United States",
			Transfer:   "EU-U.S. Data Privacy Framework and Standard Contractual Clauses",
			OutsideEEA: true, Safeguard: SafeguardSCC},
		// Asked only when the shop runs with --vies: the buyer's VAT number
		// (and the seller's, as the requester) go to the Commission's VAT
		// information exchange system, which answers whether it is
		// registered, with the name and address the member state holds.
		{ID: "vies", Name: "European Commission (VIES, the VAT information exchange system)",
			Role:     "confirms that a business buyer's VAT number is registered, when the shop is set to check VAT numbers with it; it receives the VAT number only",
			Location: "European Union",
			Kind:     OtherRecipient, NoAgreement: "a public service of the European Commission, used as every business may use it; no contract is made with it"},
	},
	Tables: []Table{
		// Only invoiced orders are tax records (HeldWith); the billing
		// details of orders never invoiced (pending, cancelled) are erased.
		{Name: "orders", Description: "Orders: what was bought, for how much, by whom, and their state.", Subject: Customer, Link: Link{Column: "customer_id", EmailColumn: "billing_email"},
			Dated: "created_at", HeldWith: "invoices", Ref: "number", Columns: []Column{
				{Name: "id"},
				purchaseColumn("number", "user.financial.purchase", "number"),
				minimised(purchaseColumn("customer_id", "user.financial.purchase", ""), BlankNull),
				purchaseColumn("status", "user.financial.purchase", "status"),
				purchaseColumn("provider", "user.financial.purchase", "payment_method"),
				purchaseColumn("currency", "user.financial.purchase", "currency"),
				purchaseColumn("subtotal_minor", "user.financial.purchase", "subtotal_minor"),
				purchaseColumn("tax_minor", "user.financial.purchase", "tax_minor"),
				purchaseColumn("total_minor", "user.financial.purchase", "total_minor"),
				purchaseColumn("processor_session", "user.payment.reference", "processor_checkout", "stripe"),
				purchaseColumn("processor_payment", "user.payment.reference", "processor_payment", "stripe"),
				purchaseColumn("processor_invoice", "user.payment.reference", "processor_invoice", "stripe"),
				processorKey(minimised(purchaseColumn("processor_customer", "user.payment.reference", "processor_customer", "stripe"), BlankEmpty), "stripe"),
				minimised(purchaseColumn("billing_email", "user.contact.email", "billing_email", "stripe"), BlankEmpty),
				unlessInvoiced(purchaseColumn("billing_name", "user.name", "billing_name")),
				unlessInvoiced(purchaseColumn("billing_company", "user.contact.address", "billing_company")),
				unlessInvoiced(purchaseColumn("billing_address", "user.contact.address", "billing_address")),
				unlessInvoiced(purchaseColumn("billing_country", "user.contact.address", "billing_country")),
				unlessInvoiced(purchaseColumn("billing_vat_id", "user.financial.vat_id", "billing_vat_id", "vies")),
				purchaseColumn("created_at", "user.financial.purchase", "placed_at"),
				purchaseColumn("updated_at", "user.financial.purchase", "updated_at"),
				purchaseColumn("paid_at", "user.financial.purchase", "paid_at"),
				purchaseColumn("tax_treatment", "user.financial.purchase", "tax_treatment"),
				// For an EU consumer the country whose rate applied is the
				// buyer's (billing_country again): erased with it.
				unlessInvoiced(purchaseColumn("tax_country", "user.contact.address", "tax_country")),
				{Name: "seller_vat_id", Note: "the vendor's own VAT number when the order was placed"},
				{Name: "prices_include_tax", Note: "the vendor's setting when the order was placed"},
				// With --vies the check holds VIES's answer: the name and
				// address the member state's register gives for the number.
				unlessInvoiced(withSource(purchaseColumn("vat_check", "user.financial.vat_id", "vat_check"), FromVIES)),
			}},
		{Name: "order_lines", Description: "The items of each order.", Subject: Customer, Link: Link{Parent: "orders", ParentColumn: "order_id", ParentExport: "order_number"}, Columns: []Column{
			{Name: "id"}, {Name: "order_id"}, {Name: "price_id", Note: "points into the catalog"},
			purchaseColumn("description", "user.financial.purchase", "description"),
			purchaseColumn("billing", "user.financial.purchase", "billing"),
			purchaseColumn("unit_minor", "user.financial.purchase", "unit_minor"),
			purchaseColumn("quantity", "user.financial.purchase", "quantity"),
			{Name: "renews_license_id", Note: "the license a renewal line extends"},
			purchaseColumn("period_start", "user.financial.purchase", "period_start"),
			purchaseColumn("period_end", "user.financial.purchase", "period_end"),
			purchaseColumn("net_minor", "user.financial.purchase", "net_minor"),
			purchaseColumn("tax_minor", "user.financial.purchase", "tax_minor"),
			purchaseColumn("tax_rate_bp", "user.financial.purchase", "tax_rate_bp"),
		}},
		{Name: "order_events", Description: "The history of each order's state and why it changed.", Subject: Customer, Link: Link{Parent: "orders", ParentColumn: "order_id", ParentExport: "order_number"}, Dated: "at", Columns: []Column{
			{Name: "id"}, {Name: "order_id"},
			purchaseColumn("at", "user.financial.purchase", "at"),
			purchaseColumn("from_status", "user.financial.purchase", "from"),
			purchaseColumn("to_status", "user.financial.purchase", "to"),
			purchaseColumn("cause", "user.financial.purchase", "cause"),
			purchaseColumn("detail", "user.financial.purchase", "detail"),
		}},
		{Name: "payment_events", Description: "Payment processor events already processed, so that none is applied twice.", Subject: Customer, Link: Link{Parent: "orders", ParentColumn: "order_id", ParentExport: "order_number"}, Dated: "received_at", Columns: []Column{
			{Name: "provider"},
			{Name: "event_id", Personal: true, Category: "user.payment.reference", Purposes: []string{"fulfilment"},
				Retention: Retention{Years: 2, From: FromCollection, Why: "processors redeliver events for up to a few days; two years covers disputes"},
				Erasure:   EraseDelete, Source: FromProcessor, Recipients: []string{"stripe"}},
			{Name: "type"}, {Name: "received_at"}, {Name: "order_id"},
			{Name: "outcome", Note: "what the event did (applied, duplicate, ...), no personal data"},
			{Name: "data", Personal: true, Category: "user.payment.reference", Purposes: []string{"fulfilment"},
				Retention: Retention{Years: 2, From: FromCollection, Why: "kept with the event it belongs to"},
				Erasure:   EraseDelete, Source: FromProcessor, Recipients: []string{"stripe"},
				Note: "the event as Storekeep read it (processor references, amounts, dates), to apply it later when it arrived early"},
		}},
		{Name: "subscriptions", Description: "Automatic renewals at the payment processor: which order started each, and its state.", Subject: Customer,
			Link: Link{Parent: "orders", ParentColumn: "order_id", ParentExport: "order_number"}, Columns: []Column{
				{Name: "id"}, {Name: "order_id"}, {Name: "provider"},
				minimised(purchaseColumn("processor_ref", "user.payment.reference", "processor_subscription", "stripe"), BlankEmpty),
				purchaseColumn("status", "user.financial.purchase", "status"),
				purchaseColumn("cancel_at_period_end", "user.financial.purchase", "cancel_at_period_end"),
				purchaseColumn("current_period_end", "user.financial.purchase", "current_period_end"),
				{Name: "state_at", Note: "when the processor's event that set the state was created, to ignore older ones"},
				purchaseColumn("created_at", "user.financial.purchase", "created_at"),
				{Name: "updated_at"},
			}},
		// Refunds are declared before invoices: a refund points at its
		// credit note, so the purge (children first, then in this order)
		// removes it before the document.
		{Name: "refunds", Description: "Refunds of orders, in full or per line: amounts, the credit note each issued, the processor's refund, why and by whom.",
			Subject: Customer, Link: Link{Parent: "orders", ParentColumn: "order_id", ParentExport: "order_number"}, Dated: "created_at", Ref: "id", Columns: []Column{
				{Name: "id"}, {Name: "order_id"}, {Name: "credit_note_id", Note: "the credit note the refund issued (invoices)"},
				purchaseColumn("state", "user.financial.purchase", "state"),
				purchaseColumn("currency", "user.financial.purchase", "currency"),
				purchaseColumn("net_minor", "user.financial.purchase", "net_minor"),
				purchaseColumn("tax_minor", "user.financial.purchase", "tax_minor"),
				purchaseColumn("gross_minor", "user.financial.purchase", "gross_minor"),
				purchaseColumn("provider", "user.financial.purchase", "payment_method"),
				purchaseColumn("provider_ref", "user.payment.reference", "processor_refund", "stripe"),
				// Who refunded and why: staff (or the processor's dashboard)
				// record them, the buyer does not provide them.
				withSource(purchaseColumn("reason", "user.financial.purchase", "reason"), FromStaff),
				withSource(purchaseColumn("cause", "user.financial.purchase", "cause"), FromStaff),
				purchaseColumn("created_at", "user.financial.purchase", "refunded_at"),
			}},
		{Name: "refund_lines", Description: "The order lines, and how many of each, a refund returned.", Subject: Customer,
			Link: Link{Parent: "refunds", ParentColumn: "refund_id", ParentExport: "refund_id"}, Columns: []Column{
				{Name: "id"}, {Name: "refund_id"}, {Name: "order_line_id", Note: "the order line refunded (order_lines)"},
				purchaseColumn("quantity", "user.financial.purchase", "quantity"),
				purchaseColumn("net_minor", "user.financial.purchase", "net_minor"),
				purchaseColumn("tax_minor", "user.financial.purchase", "tax_minor"),
				purchaseColumn("gross_minor", "user.financial.purchase", "gross_minor"),
			}},
		{Name: "invoices", Description: "The register of issued invoices and credit notes, numbered without gaps.", Subject: Customer, Link: Link{Parent: "orders", ParentColumn: "order_id", ParentExport: "order_number"}, Dated: "issued_at", Ref: "number", Columns: []Column{
			{Name: "id"},
			purchaseColumn("number", "user.financial.purchase", "number"),
			{Name: "year"}, {Name: "seq"},
			purchaseColumn("kind", "user.financial.purchase", "kind"),
			purchaseColumn("order_id", "user.financial.purchase", ""),
			purchaseColumn("issued_at", "user.financial.purchase", "issued_at"),
			purchaseColumn("currency", "user.financial.purchase", "currency"),
			purchaseColumn("total_minor", "user.financial.purchase", "total_minor"),
			{Name: "seller", Note: "the vendor's own names, address, contact and bank details as the document printed them when issued; no data about the buyer"},
		}},
		{Name: "invoice_corrections", Description: "Corrections of issued invoices: the corrected billing details and why, numbered with the invoices.",
			Subject: Customer, Link: Link{Parent: "invoices", ParentColumn: "invoice_id", ParentExport: "invoice_number"}, Dated: "issued_at", Columns: []Column{
				{Name: "id"}, {Name: "year"}, {Name: "seq"}, {Name: "invoice_id"},
				purchaseColumn("number", "user.financial.purchase", "number"),
				purchaseColumn("issued_at", "user.financial.purchase", "issued_at"),
				purchaseColumn("reason", "user.financial.purchase", "reason"),
				purchaseColumn("billing_name", "user.name", "billing_name"),
				purchaseColumn("billing_company", "user.contact.address", "billing_company"),
				purchaseColumn("billing_address", "user.contact.address", "billing_address"),
				purchaseColumn("billing_country", "user.contact.address", "billing_country"),
				purchaseColumn("billing_vat_id", "user.financial.vat_id", "billing_vat_id"),
				{Name: "seller", Note: "the vendor's own names, address, contact and bank details as the document printed them when issued; no data about the buyer"},
			}},
		{Name: "invoice_counters", Description: "The last invoice number used in each year.", Columns: plain("year", "last_seq")},
	},
}

// purchaseColumn declares part of a purchase record: needed to perform the
// contract and kept for seven years after the end of the year of purchase
// because tax and accounting law requires it; on erasure it is kept under
// legal hold and purged when that period ends.
func purchaseColumn(name string, c Category, export string, recipients ...string) Column {
	src := FromSubject
	if c == "user.payment.reference" {
		src = FromProcessor
	}
	return Column{Name: name, Personal: true, Category: c, Purposes: []string{"fulfilment", "legal"},
		Retention: Retention{Years: 7, From: FromEndOfYear, Why: "tax and accounting records"},
		Erasure:   LegalHold, Source: src, Export: export, Recipients: recipients}
}

// minimised declares a purchase column that tax law does not require: on
// erasure it is overwritten with blank while the rest of the record stays
// under legal hold.
func minimised(c Column, blank Blank) Column {
	c.Erasure, c.Blank = EraseDelete, blank
	return c
}

// unlessInvoiced declares a billing detail the law requires us to keep
// only for an invoiced purchase: on erasure it stays with an order that
// has an invoice and is blanked in one that has none.
func unlessInvoiced(c Column) Column {
	c.IfNotHeld = EraseDelete
	return c
}

// withSource declares a purchase column that does not come from the
// buyer: staff write it, or a register answered it.
func withSource(c Column, src Source) Column {
	c.Source = src
	return c
}

// processorKey marks a column holding a processor's own key for the
// person, which erasure asks that processor to delete.
func processorKey(c Column, recipient string) Column {
	c.ProcessorRef = recipient
	return c
}
