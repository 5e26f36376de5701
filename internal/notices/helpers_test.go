package notices_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/notices"
)

var (
	start   = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	secret  = []byte("0123456789abcdef0123456789abcdef")
	base, _ = url.Parse("https://shop.example")
	staffer = audit.Staff(1)
)

// license describes a test license.
type license struct {
	product, edition string
	expires          time.Time // zero: perpetual
	updatesUntil     time.Time
	graceDays        int
	status           string // "" is active
	version          string // a machine's reported version, "" for none
}

var seq int

// customerWith inserts a customer holding the licenses and returns its id.
func customerWith(t testing.TB, d *db.DB, email string, ls ...license) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	if err := d.Writer().QueryRowContext(ctx, `INSERT INTO customers (email, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id`, email, start).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		seq++
		st := l.status
		if st == "" {
			st = "active"
		}
		var exp, upd any
		if !l.expires.IsZero() {
			exp = l.expires
		}
		if !l.updatesUntil.IsZero() {
			upd = l.updatesUntil
		}
		var lid int64
		if err := d.Writer().QueryRowContext(ctx, `INSERT INTO licenses (lic, license_key, kid, customer_id, product, edition, status, issued_at, expires_at, updates_until, grace_days, updated_at)
			VALUES ($1, 'k', 'kid', $2, $3, $4, $5, $6, $7, $8, $9, $6) RETURNING id`,
			fmt.Sprintf("L-%d", seq), id, l.product, l.edition, st, start.AddDate(-1, 0, 0), exp, upd, l.graceDays).Scan(&lid); err != nil {
			t.Fatal(err)
		}
		if l.version != "" {
			if _, err := d.ExecContext(ctx, `INSERT INTO license_machines (license_id, fingerprint, version, activated_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)`,
				lid, fmt.Sprintf("fp-%d", seq), l.version, start); err != nil {
				t.Fatal(err)
			}
		}
	}
	return id
}

func choose(t testing.TB, d *db.DB, customer int64, choice, purpose string) {
	t.Helper()
	if _, err := d.ExecContext(context.Background(), `INSERT INTO subject_choices (customer_id, choice, purpose, active, changed_at, note) VALUES ($1, $2, $3, TRUE, $4, '')`,
		customer, choice, purpose, start); err != nil {
		t.Fatal(err)
	}
}

func newNotice(t testing.TB, d *db.DB, in notices.Input) int64 {
	t.Helper()
	if in.Subject == "" {
		in.Subject = "Security fix in 2.4.1"
	}
	if in.Body == "" {
		in.Body = "Please **update** to 2.4.1."
	}
	id, err := notices.Create(context.Background(), d, staffer, in, start)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func sender(d *db.DB, clk clock.Clock, r notices.Rate) *notices.Sender {
	return &notices.Sender{DB: d, Clock: clk, Rate: r, BaseURL: base, Secret: secret, Site: "Milterworks"}
}

// outboxCount counts the outbox rows of notice mail.
func outboxCount(t testing.TB, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) int {
	t.Helper()
	var n int
	if err := q.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE template = 'notice'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
