package documents

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/mail"
)

// MailAttacher attaches the invoice's PDF to the mails about an invoiced
// order: the purchase confirmation ("order_confirmation", queued as
// "order-paid:ORDER-ID") and the invoice to pay by transfer
// ("manual_invoice", "order-invoice:ORDER-ID"). The outbox row names the
// order by its dedup key, so nothing but the message is stored; the PDF is
// rendered at send time from the stored records, and every attempt sends
// the same bytes.
type MailAttacher struct {
	Source Source
}

// attachedTo maps a template to the dedup-key prefix of its messages.
var attachedTo = map[string]string{
	"order_confirmation": "order-paid:",
	"manual_invoice":     "order-invoice:",
}

// Attachments returns the invoice of the order m is about, or nothing for
// a message that carries no document.
func (a MailAttacher) Attachments(ctx context.Context, m mail.Queued) ([]mail.Attachment, error) {
	prefix, ok := attachedTo[m.Template]
	if !ok || !strings.HasPrefix(m.DedupKey, prefix) {
		return nil, nil
	}
	orderID, err := strconv.ParseInt(strings.TrimPrefix(m.DedupKey, prefix), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("documents: message %d names no order (%q)", m.ID, m.DedupKey)
	}
	inv, err := invoiceOf(ctx, a.Source.DB, orderID)
	if err != nil {
		return nil, err
	}
	l, err := a.Source.invoice(ctx, *inv)
	if err != nil {
		return nil, err
	}
	b, err := l.PDF()
	if err != nil {
		return nil, err
	}
	return []mail.Attachment{{Filename: l.Filename(), ContentType: "application/pdf", Data: b}}, nil
}

var _ mail.Attacher = MailAttacher{}
