package monitor_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/monitor"
	"github.com/storekeep/storekeep/internal/testutil"
)

// fillOutbox writes sent sent messages (the history the outbox keeps)
// and queued queued ones, the oldest first.
func fillOutbox(b *testing.B, d *db.DB, sent, queued int) {
	b.Helper()
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO outbox (kind, template, to_addr, subject, text_body, message_id, created_at, send_after, sent_at)
			VALUES ($1, 'signin', $2, 's', 't', $3, $4, $4, $5)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range sent + queued {
			at := start.Add(time.Duration(i) * time.Second)
			var sentAt any = at.Add(time.Second)
			if i >= sent {
				sentAt = nil
			}
			kind := "transactional"
			if i%3 == 0 {
				kind = "bulk"
			}
			if _, err := st.ExecContext(ctx, kind, fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("m%d", i), at, sentAt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFactsScrape is the database's share of one scrape: every
// query of Facts.Collect, with an outbox of 100,000 sent and 1,000 queued
// messages.
func BenchmarkFactsScrape(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var d *db.DB
			if dialect == "sqlite" {
				d = testutil.SQLite(b)
			} else {
				d = testutil.Postgres(b)
			}
			fillOutbox(b, d, 100_000, 1_000)
			if _, err := d.ExecContext(context.Background(), `ANALYZE`); err != nil {
				b.Fatal(err)
			}
			f := monitor.NewFacts(d, time.Now)
			reg := prometheus.NewRegistry()
			reg.MustRegister(f)
			b.ResetTimer()
			for b.Loop() {
				fams, err := reg.Gather()
				if err != nil || len(fams) != 5 {
					b.Fatalf("%d families, %v", len(fams), err)
				}
			}
		})
	}
}
