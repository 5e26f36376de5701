package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strings"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/inbound"
)

// Exit statuses of support ingest, from sendmail's sysexits.h, which
// Postfix's pipe transport reads: EX_TEMPFAIL defers the message (Postfix
// tries again), the others bounce it with the line printed on stderr.
// Every problem on our side (flags, configuration, the database) is
// EX_TEMPFAIL, so that a mistake in master.cf or a database that is down
// keeps the mail in the queue instead of bouncing it; Postfix would bounce
// EX_USAGE, EX_CONFIG and our own 1 and 2.
const (
	exOK       = 0
	exDataErr  = 65 // EX_DATAERR: the message is refused (too big, unreadable, ...)
	exNoUser   = 67 // EX_NOUSER: no mailbox takes the recipient
	exTempFail = 75 // EX_TEMPFAIL: try again later
)

func ingestCommand() *cobra.Command {
	var (
		cfg               config.Config
		recipient, sender string
	)
	c := &cobra.Command{
		Use:   "ingest --recipient ADDR [--sender ADDR]",
		Short: "Deliver one message from standard input to the mailbox of --recipient (Postfix's pipe transport)",
		Long: `Reads one message on standard input and delivers it to the Storekeep mailbox
(privacy, support) that takes --recipient, as the SMTP and LMTP receivers would.
Meant for Postfix's pipe transport (docs/inbound-mail.md):

  storekeep unix - n n - - pipe flags=R null_sender= user=storekeep
    argv=/usr/bin/storekeep support ingest --recipient ${recipient} --sender ${sender}

Without --sender the Return-Path header (flags=R) gives the envelope sender;
an empty one, <> or MAILER-DAEMON is the null sender of delivery reports.

Exit status (sysexits.h): 0 delivered; 67 no mailbox takes the recipient;
65 the message is refused (too big, empty, unreadable); 75 a temporary
failure, including a configuration mistake or an unreachable database, so
the mail stays in Postfix's queue. On failure one line on stderr says why.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return exitError{exTempFail, fmt.Errorf("support ingest takes no arguments, got %q: give --recipient ADDR (the message stays in the queue)", args)}
			}
			return nil
		},
		RunE: func(c *cobra.Command, _ []string) error {
			var senderGiven *string
			if c.Flags().Changed("sender") {
				senderGiven = &sender
			}
			return ingest(c.Context(), &cfg, c.InOrStdin(), recipient, senderGiven)
		},
	}
	cfg.BindGroups(c.Flags(), config.DB|config.Log)
	c.Flags().StringVar(&recipient, "recipient", "", "the envelope recipient (Postfix: ${recipient})")
	c.Flags().StringVar(&sender, "sender", "", "the envelope sender (Postfix: ${sender} with null_sender=); empty for a delivery report; default: the Return-Path header")
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exitError{exTempFail, fmt.Errorf("%v (the message stays in the queue; fix the command line in master.cf)", err)}
	})
	return c
}

// ingest delivers the one message on stdin and returns nil or an
// exitError with the status for Postfix.
func ingest(ctx context.Context, cfg *config.Config, stdin io.Reader, recipient string, sender *string) error {
	// Whatever happens, read the message to its end: a command that exits
	// before would have Postfix see a broken pipe.
	defer func() { _, _ = io.Copy(io.Discard, stdin) }()
	tempFail := func(err error) error {
		// One line: Postfix puts it into its log and the delay notice.
		msg := strings.Join(strings.Fields(err.Error()), " ")
		return exitError{exTempFail, fmt.Errorf("temporary failure, the message stays in the queue: %s", msg)}
	}
	if recipient == "" {
		return tempFail(errors.New("--recipient is required: give --recipient ${recipient} in master.cf"))
	}
	if err := cfg.Validate(); err != nil {
		return tempFail(err)
	}
	d, err := openExistingDB(ctx, cfg)
	if err != nil {
		return tempFail(err)
	}
	defer d.Close()
	// The log would end up in Postfix's bounces and log lines; the one
	// line on stderr says what happened.
	log := cfg.Logger(io.Discard)
	mbs, err := mailboxes(ctx, cfg, d, log)
	if err != nil {
		return tempFail(err)
	}
	limit := inbound.MaxBytes(mbs)
	raw, err := io.ReadAll(io.LimitReader(stdin, limit+1))
	if err != nil {
		return tempFail(fmt.Errorf("read the message: %w", err))
	}
	if int64(len(raw)) > limit {
		return exitError{exDataErr, fmt.Errorf("%v: the message is larger than the %d bytes Storekeep takes", inbound.ErrTooBig, limit)}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return exitError{exDataErr, errors.New("550 5.6.0 The message is empty")}
	}
	env := inbound.Envelope{Recipient: recipient, Via: inbound.ViaPipe}
	switch {
	case sender != nil:
		env.Sender = nullSender(*sender)
	default:
		s, ok := returnPath(raw)
		if !ok {
			return tempFail(errors.New("the envelope sender is unknown: give --sender ${sender} (with null_sender=) or flags=R in master.cf"))
		}
		env.Sender = nullSender(s)
	}
	err = inbound.Deliver(ctx, mbs, log, env, crlf(raw))
	if err == nil {
		return nil
	}
	var r *inbound.Reply
	if !errors.As(err, &r) {
		return tempFail(err)
	}
	switch {
	case r.Temporary():
		return exitError{exTempFail, r}
	case r.Enhanced[1] == 1 && r.Enhanced[2] >= 1 && r.Enhanced[2] <= 6: // x.1.1 to x.1.6: the recipient's address
		return exitError{exNoUser, r}
	}
	return exitError{exDataErr, r}
}

// nullSender maps the ways of writing the null sender to "".
func nullSender(s string) string {
	s = strings.TrimSpace(s)
	if s == "<>" || strings.EqualFold(s, "MAILER-DAEMON") {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
}

// returnPath is the Return-Path header of the message, which Postfix's
// pipe adds with flags=R.
func returnPath(raw []byte) (string, bool) {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return "", false
	}
	v, ok := h["Return-Path"]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// crlf gives the message CRLF line ends, as SMTP and LMTP deliver it:
// Postfix's pipe writes LF, and mailboxes may keep the raw message.
func crlf(raw []byte) []byte {
	if !bytes.Contains(raw, []byte("\n")) || bytes.Count(raw, []byte("\r\n")) == bytes.Count(raw, []byte("\n")) {
		return raw
	}
	lines := bytes.Split(raw, []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimSuffix(l, []byte("\r"))
	}
	return bytes.Join(lines, []byte("\r\n"))
}
