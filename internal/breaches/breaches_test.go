package breaches_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/breaches"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func owners(t *testing.T, d *db.DB, emails ...string) []staff.Account {
	t.Helper()
	var out []staff.Account
	err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		for _, e := range emails {
			a, err := staff.Create(context.Background(), tx, e, "Owner "+e, staff.Owner, t0)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func valid() breaches.Input {
	return breaches.Input{Facts: breaches.Facts{Title: "Backup copied", WhatHappened: "A former contractor kept a copy of a database backup.",
		DiscoveredAt: t0, Categories: []privacy.Category{"user.contact.email"}, SubjectsAffected: 120, RecordsAffected: 400,
		Authority: breaches.Undecided, Subjects: breaches.Undecided}}
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTheRegisterRefusesAndKeepsHistory: a breach without a discovery
// time (or with times that cannot be) is refused with a clear message and
// nothing is written; a change keeps the earlier version; nothing is
// deleted; every step is audited.
func TestTheRegisterRefusesAndKeepsHistory(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		o := owners(t, d, "owner@milterworks.example")[0]
		by := audit.Staff(o.ID)
		bad := valid()
		bad.DiscoveredAt = time.Time{}
		_, err := breaches.Record(ctx, d, by, bad, t0)
		if rf, ok := refuse.As(err); !ok || rf.Field != "discovered_at" || !strings.Contains(rf.Msg, "when the breach was discovered") {
			t.Fatalf("no discovery time: %v", err)
		}
		for name, mutate := range map[string]func(*breaches.Input){
			"future discovery":  func(in *breaches.Input) { in.DiscoveredAt = t0.Add(time.Hour) },
			"after discovery":   func(in *breaches.Input) { in.OccurredAt = t0.Add(time.Minute) },
			"no title":          func(in *breaches.Input) { in.Title = " " },
			"no reason":         func(in *breaches.Input) { in.Authority = breaches.NotRequired },
			"unknown category":  func(in *breaches.Input) { in.Categories = []privacy.Category{"user.nonsense"} },
			"told, not needed":  func(in *breaches.Input) { in.AuthorityNotifiedAt = t0 },
			"negative estimate": func(in *breaches.Input) { in.SubjectsAffected = -1 },
		} {
			in := valid()
			mutate(&in)
			if _, err := breaches.Record(ctx, d, by, in, t0); err == nil {
				t.Errorf("%s: taken", name)
			} else if _, ok := refuse.As(err); !ok {
				t.Errorf("%s: %v", name, err)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM breaches`); n != 0 {
			t.Fatalf("%d breaches written by refusals", n)
		}
		id, err := breaches.Record(ctx, d, by, valid(), t0)
		if err != nil {
			t.Fatal(err)
		}
		in := valid()
		in.Authority, in.AuthorityNotifiedAt, in.AuthorityReference = breaches.Required, t0.Add(5*time.Hour), "DPA-2026-17"
		if err := breaches.Update(ctx, d, by, id, in, "told the authority", t0.Add(6*time.Hour)); err != nil {
			t.Fatal(err)
		}
		b, err := breaches.ByID(ctx, d, id)
		if err != nil || b.Version != 2 || b.AuthorityReference != "DPA-2026-17" || b.AuthorityPending() {
			t.Fatalf("after the change: %+v, %v", b, err)
		}
		vs, err := breaches.Versions(ctx, d, id)
		if err != nil || len(vs) != 1 || vs[0].Version != 1 || vs[0].Breach.Authority != breaches.Undecided || vs[0].Note != "told the authority" || vs[0].ChangedBy != o.ID {
			t.Fatalf("history: %+v, %v", vs, err)
		}
		// A refused change changes nothing.
		in.DiscoveredAt = time.Time{}
		if err := breaches.Update(ctx, d, by, id, in, "", t0.Add(7*time.Hour)); err == nil {
			t.Fatal("a change without a discovery time was taken")
		}
		if b2, _ := breaches.ByID(ctx, d, id); b2.Version != 2 {
			t.Fatalf("a refused change wrote version %d", b2.Version)
		}
		if n := count(t, d, `SELECT count(*) FROM audit_log WHERE subject_type = 'breach' AND action IN ('breach.recorded', 'breach.updated')`); n != 2 {
			t.Fatalf("%d audit entries", n)
		}
		if _, err := audit.Verify(ctx, d, nil); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDeadlineWarnedOncePerBreach: owners are warned when 24 hours are
// left, once per breach and owner, even with several instances running
// the job at once; a breach the authority was told of, or need not be,
// is not warned about.
func TestDeadlineWarnedOncePerBreach(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		os := owners(t, d, "a@milterworks.example", "b@milterworks.example")
		by := audit.Staff(os[0].ID)
		id, err := breaches.Record(ctx, d, by, valid(), t0)
		if err != nil {
			t.Fatal(err)
		}
		calm := valid()
		calm.Authority, calm.AuthorityReason = breaches.NotRequired, "the backup was encrypted and the key was not exposed"
		if _, err := breaches.Record(ctx, d, by, calm, t0); err != nil {
			t.Fatal(err)
		}
		// 47 hours after discovery: 25 left, no warning yet.
		if n, err := breaches.SendDeadlineWarnings(ctx, d, "https://x", t0.Add(47*time.Hour)); err != nil || n != 0 {
			t.Fatalf("early: %d, %v", n, err)
		}
		at := t0.Add(50 * time.Hour)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { _, errs[i] = breaches.SendDeadlineWarnings(ctx, d, "https://x", at) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE template = 'breach_deadline'`); n != 2 {
			t.Fatalf("%d warnings for one breach and two owners", n)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE template = 'breach_deadline' AND staff_id IS NOT NULL AND recipient_kind = 'staff' AND dedup_key = $1`, breaches.DeadlineKey(id, os[1].ID)); n != 1 {
			t.Fatalf("the second owner's warning: %d", n)
		}
		if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'breach.deadline_warned'`); n != 1 {
			t.Fatalf("%d audit entries for the warning", n)
		}
		// Later runs, past the deadline, send nothing more.
		if n, err := breaches.SendDeadlineWarnings(ctx, d, "https://x", t0.Add(80*time.Hour)); err != nil || n != 0 {
			t.Fatalf("late: %d, %v", n, err)
		}
	})
}

// TestNoticeDraftedAndSentOnce: the notice is refused with script in it,
// is not sent by drafting, goes once through the outbox when sent (a
// second press refused, nothing queued twice), and skips no one for a
// restriction, since the law requires telling them.
func TestNoticeDraftedAndSentOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		o := owners(t, d, "owner@milterworks.example")[0]
		by := audit.Staff(o.ID)
		var ada customers.Customer
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			raw, err := customers.RequestSignIn(ctx, tx, "ada@example.com", t0)
			if err != nil {
				return err
			}
			ada, _, err = customers.CompleteSignIn(ctx, tx, raw, t0)
			if err != nil {
				return err
			}
			return privacy.SetChoice(ctx, tx, privacy.Declared, ada.ID, privacy.ChoiceRestriction, "", true, "", t0)
		})
		if err != nil {
			t.Fatal(err)
		}
		id, err := breaches.Record(ctx, d, by, valid(), t0)
		if err != nil {
			t.Fatal(err)
		}
		draft := breaches.NoticeInput{Subject: "An incident affected your data", Body: "Hello **there**.", Audience: breaches.Addresses,
			Addresses: "ada@example.com\nbob@example.com"}
		if err := breaches.DraftNotice(ctx, d, by, id, draft, t0); !errors.Is(err, refuse.New(refuse.Conflict, "breach_notice_undecided", "")) {
			t.Fatalf("draft before deciding: %v", err)
		}
		in := valid()
		in.Subjects = breaches.Required
		if err := breaches.Update(ctx, d, by, id, in, "people must be told", t0); err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{"Hi <script>alert(1)</script>", "[x](javascript:alert(1))", `<img src=x onerror="alert(1)">`} {
			bad := draft
			bad.Body = body
			err := breaches.DraftNotice(ctx, d, by, id, bad, t0)
			if rf, ok := refuse.As(err); !ok || !strings.Contains(rf.Msg, "Markdown only") {
				t.Fatalf("%q: %v", body, err)
			}
		}
		bad := draft
		bad.Addresses = "ada@example.com\nnot an address"
		if err := breaches.DraftNotice(ctx, d, by, id, bad, t0); err == nil {
			t.Fatal("a bad address was taken")
		}
		if n := count(t, d, `SELECT count(*) FROM breach_subjects`); n != 0 {
			t.Fatalf("refused drafts wrote %d recipients", n)
		}
		if err := breaches.DraftNotice(ctx, d, by, id, draft, t0); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE template = 'breach_notice'`); n != 0 {
			t.Fatalf("drafting sent %d messages", n)
		}
		var wg sync.WaitGroup
		outs := make([]breaches.Outcome, 3)
		errs := make([]error, 3)
		for i := range outs {
			wg.Go(func() {
				outs[i], errs[i] = breaches.SendNotice(ctx, d, by, id, breaches.Site{Name: "Milterworks"}, t0.Add(time.Hour))
			})
		}
		wg.Wait()
		sent := 0
		for i, err := range errs {
			switch {
			case err == nil:
				sent++
				if outs[i].Queued != 2 || outs[i].Skipped != 0 {
					t.Fatalf("outcome %+v", outs[i])
				}
			case !errors.Is(err, breaches.ErrSent):
				t.Fatal(err)
			}
		}
		if sent != 1 {
			t.Fatalf("sent %d times", sent)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE template = 'breach_notice'`); n != 2 {
			t.Fatalf("%d notices queued", n)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE template = 'breach_notice' AND customer_id = $1 AND html_body NOT LIKE '%<script%'`, ada.ID); n != 1 {
			t.Fatalf("the restricted customer's notice: %d", n)
		}
		if err := breaches.DraftNotice(ctx, d, by, id, draft, t0); !errors.Is(err, breaches.ErrSent) {
			t.Fatalf("draft after sending: %v", err)
		}
	})
}

// TestNoticeToEveryCustomer: the every-customer audience is written when
// the notice is sent, erased accounts left out.
func TestNoticeToEveryCustomer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		o := owners(t, d, "owner@milterworks.example")[0]
		by := audit.Staff(o.ID)
		for _, e := range []string{"ada@example.com", "erased-7@erased.invalid"} {
			if _, err := d.ExecContext(ctx, `INSERT INTO customers (email, created_at, updated_at) VALUES ($1, $2, $2)`, e, t0); err != nil {
				t.Fatal(err)
			}
		}
		in := valid()
		in.Subjects = breaches.Required
		id, err := breaches.Record(ctx, d, by, in, t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := breaches.DraftNotice(ctx, d, by, id, breaches.NoticeInput{Subject: "Incident", Body: "Text.", Audience: breaches.EveryCustomer}, t0); err != nil {
			t.Fatal(err)
		}
		out, err := breaches.SendNotice(ctx, d, by, id, breaches.Site{Name: "M"}, t0)
		if err != nil || out.Queued != 1 {
			t.Fatalf("%+v, %v", out, err)
		}
		rs, total, err := breaches.Recipients(ctx, d, id, 10)
		if err != nil || total != 1 || rs[0].Email != "ada@example.com" || rs[0].State != "queued" || rs[0].CustomerID == 0 {
			t.Fatalf("recipients %+v (%d), %v", rs, total, err)
		}
	})
}
