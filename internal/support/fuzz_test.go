package support_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/testutil"
)

// FuzzReceive feeds the desk any bytes as a mail: it never fails on the
// input (only on the database), and whatever the outcome the message is
// kept exactly as it came, in a ticket's thread or among the parked mail.
func FuzzReceive(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "mailmsg", "testdata", "corpus", "*.eml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, "")
		}
	}
	f.Add(mailFrom("a@b.example", "s", "t"), "support+aaaaaaaaaaaaaaaaaaaa@milterworks.example")
	f.Add([]byte("From: a@b.example\r\nSubject: [Support #1]\r\nIn-Reply-To: <x@y>\r\n\r\nhi"), "")
	d := testutil.SQLite(f)
	desk, _ := newDesk(f, d)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw []byte, rcpt string) {
		if rcpt == "" {
			rcpt = supportAddr
		}
		out, err := desk.Receive(ctx, support.Envelope{Sender: "fuzz@x.example", Recipient: rcpt, Via: "lmtp"}, raw)
		if err != nil {
			t.Fatalf("receive failed on input: %v", err)
		}
		var kept []byte
		switch out.Kind {
		case support.Parked, support.Ignored:
			_, kept, err = desk.ParkedRaw(ctx, out.ParkedID)
		case support.Opened, support.Added:
			err = d.QueryRowContext(ctx, `SELECT raw FROM support_messages WHERE ticket_id = $1 ORDER BY id DESC LIMIT 1`, out.TicketID).Scan(&kept)
		case support.Duplicate:
			return
		default:
			t.Fatalf("unknown outcome %+v", out)
		}
		if err != nil || !bytes.Equal(kept, raw) {
			t.Fatalf("%s: the raw message was not kept as it came (%v)", out.Kind, err)
		}
	})
}
