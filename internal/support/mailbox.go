package support

import (
	"context"

	"github.com/storekeep/storekeep/internal/inbound"
)

// Mailbox is the desk as the mail listeners and `storekeep support
// ingest` take it: the support address and its plus forms, up to the
// desk's largest message, every accepted message recorded by Receive.
func (d *Desk) Mailbox() inbound.Mailbox { return mailbox{d} }

type mailbox struct{ d *Desk }

func (mailbox) Name() string { return "support" }

func (m mailbox) Accepts(ctx context.Context, rcpt string) (bool, error) {
	return m.d.Accepts(ctx, rcpt)
}

func (m mailbox) MaxBytes() int64 { return m.d.MaxMessageBytes() }

// Deliver records the message. Every message that can be stored is
// accepted (250), whatever the desk decides about it, so that nothing is
// refused that a person might want; a database failure answers 451 and
// the sending server tries again.
func (m mailbox) Deliver(ctx context.Context, env inbound.Envelope, raw []byte) error {
	out, err := m.d.Receive(ctx, Envelope{Sender: env.Sender, Recipient: env.Recipient, Via: env.Via}, raw)
	if err != nil {
		return err
	}
	inbound.LogAttrs(ctx, "outcome", string(out.Kind), "ticket", out.TicketID, "parked", out.ParkedID)
	return nil
}
