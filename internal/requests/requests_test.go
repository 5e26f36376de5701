package requests_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/requests"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
)

// t0 is when the tests' requests arrive: 31 January, so that the
// deadline falls on the last day of February.
var t0 = time.Date(2026, 1, 31, 9, 30, 0, 0, time.UTC)

var clerk = requests.StaffActor(7, "192.0.2.0/24")

var vendor = settings.Vendor{Name: "Milterworks", LegalName: "Milterworks GmbH", PrivacyEmail: "privacy@milterworks.example",
	SupportEmail: "support@milterworks.example", Country: "Germany"}

func setup(t *testing.T, d *db.DB) {
	t.Helper()
	err := d.Tx(context.Background(), func(tx *sql.Tx) error { return settings.Save(context.Background(), tx, vendor, t0) })
	if err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, d *db.DB, kind requests.Kind, email string, at time.Time) requests.Request {
	t.Helper()
	r, err := requests.Create(context.Background(), d, nil, requests.NewRequest{Kind: kind, Email: email, Channel: requests.Email}, clerk, at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// customer makes an account the way the site does.
func customer(t *testing.T, d *db.DB, email string) customers.Customer {
	t.Helper()
	ctx := context.Background()
	var c customers.Customer
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		raw, err := customers.RequestSignIn(ctx, tx, email, t0)
		if err != nil {
			return err
		}
		c, _, err = customers.CompleteSignIn(ctx, tx, raw, t0)
		if err != nil {
			return err
		}
		_, err = customers.StartSession(ctx, tx, c.ID, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type sent struct{ To, Template, Text, Dedup string }

// outbox returns the queued messages made from template, oldest first.
func outbox(t *testing.T, d *db.DB, template string) []sent {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT to_addr, template, text_body, COALESCE(dedup_key, '') FROM outbox WHERE template = $1 ORDER BY id`, template)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []sent
	for rows.Next() {
		var m sent
		if err := rows.Scan(&m.To, &m.Template, &m.Text, &m.Dedup); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

var codeRE = regexp.MustCompile(`Your code: ([A-Z0-9]{4}-[A-Z0-9]{4})`)

// lastCode reads the newest verification code from the outbox, as the
// requester reads it from their mailbox.
func lastCode(t *testing.T, d *db.DB) (to, code string) {
	t.Helper()
	ms := outbox(t, d, "request_verify")
	if len(ms) == 0 {
		t.Fatal("no verification code was mailed")
	}
	m := ms[len(ms)-1]
	c := codeRE.FindStringSubmatch(m.Text)
	if c == nil {
		t.Fatalf("no code in the mail:\n%s", m.Text)
	}
	return m.To, c[1]
}

func actions(t *testing.T, d *db.DB, prefix string) []string {
	t.Helper()
	es, err := audit.List(context.Background(), d, audit.Filter{Action: prefix})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	slices.Sort(out)
	return out
}

func wantRefusal(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if _, ok := requests.IsRefusal(err); !ok || err.Error() == "" {
		t.Fatalf("%v is not a refusal with a message", err)
	}
}

func TestStateMachine(t *testing.T) {
	S := requests.States
	allowed := map[[2]requests.State]bool{
		{"received", "verifying"}: true, {"received", "in_progress"}: true, {"received", "refused"}: true,
		{"verifying", "verifying"}: true, {"verifying", "in_progress"}: true, {"verifying", "refused"}: true,
		{"in_progress", "extended"}: true, {"in_progress", "completed"}: true, {"in_progress", "refused"}: true,
		{"extended", "completed"}: true, {"extended", "refused"}: true,
	}
	for _, from := range S {
		for _, to := range S {
			if got := requests.CanMove(from, to); got != allowed[[2]requests.State{from, to}] {
				t.Errorf("CanMove(%s, %s) = %v", from, to, got)
			}
		}
	}
	for _, s := range []requests.State{requests.Completed, requests.Refused} {
		if !s.Closed() {
			t.Errorf("%s is final", s)
		}
	}
	// The console offers only what the state allows.
	now := t0
	r := requests.Request{State: requests.Received, DueAt: requests.DueDate(now)}
	if got := r.Actions(now); !slices.Equal(got, []string{"send-code", "doubt", "refuse"}) {
		t.Errorf("received: %v", got)
	}
	r.State, r.CodePending, r.VerifiedAt = requests.Verifying, true, time.Time{}
	if got := r.Actions(now); !slices.Equal(got, []string{"send-code", "verify", "doubt", "refuse"}) {
		t.Errorf("verifying: %v", got)
	}
	r.State = requests.InProgress
	if got := r.Actions(now); !slices.Equal(got, []string{"extend", "complete", "refuse"}) {
		t.Errorf("in progress: %v", got)
	}
	if got := r.Actions(r.DueAt.Add(time.Minute)); !slices.Equal(got, []string{"complete", "refuse"}) {
		t.Errorf("in progress after the first month: %v", got)
	}
	r.State = requests.Completed
	if got := r.Actions(now); len(got) != 0 {
		t.Errorf("completed: %v", got)
	}
}

func TestDeadlines(t *testing.T) {
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 30, 0, 0, time.UTC) }
	for _, c := range []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{at(2026, 1, 31), 1, at(2026, 2, 28)},
		{at(2028, 1, 31), 1, at(2028, 2, 29)}, // leap year
		{at(2026, 1, 30), 1, at(2026, 2, 28)},
		{at(2026, 3, 31), 1, at(2026, 4, 30)},
		{at(2026, 5, 7), 1, at(2026, 6, 7)},
		{at(2026, 12, 31), 1, at(2027, 1, 31)},
		{at(2026, 1, 31), 3, at(2026, 4, 30)}, // extended by two months
		{at(2026, 11, 30), 3, at(2027, 2, 28)},
	} {
		if got := requests.AddMonths(c.from, c.n); !got.Equal(c.want) {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", c.from.Format(time.DateOnly), c.n, got.Format(time.DateOnly), c.want.Format(time.DateOnly))
		}
	}
	if got := requests.DueDate(t0); !got.Equal(at(2026, 2, 28)) {
		t.Errorf("DueDate = %s", got)
	}
	r := requests.Request{State: requests.InProgress, DueAt: requests.DueDate(t0)}
	for _, c := range []struct {
		now              time.Time
		overdue, dueSoon bool
		days             int
	}{
		{t0, false, false, 28},
		{at(2026, 2, 21), false, true, 7},
		{at(2026, 2, 28), false, true, 0},
		{at(2026, 2, 28).Add(time.Minute), true, false, 0},
		{at(2026, 3, 3), true, false, -3},
	} {
		if r.Overdue(c.now) != c.overdue || r.DueSoon(c.now) != c.dueSoon || r.DaysLeft(c.now) != c.days {
			t.Errorf("at %s: overdue %v, due soon %v, days %d; want %v %v %d", c.now, r.Overdue(c.now), r.DueSoon(c.now), r.DaysLeft(c.now),
				c.overdue, c.dueSoon, c.days)
		}
	}
	r.State = requests.Completed
	if r.Overdue(at(2026, 3, 3)) || r.DueSoon(at(2026, 2, 27)) {
		t.Error("a completed request is never overdue")
	}
}

func TestCreateFindsDuplicatesAndLimitsAbuse(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		setup(t, d)
		lim := ratelimit.New(d, []byte("test secret"))
		c := customer(t, d, "ann@example.com")
		add := func(kind requests.Kind, email string, at time.Time) (requests.Request, error) {
			return requests.Create(ctx, d, lim, requests.NewRequest{Kind: kind, Email: email, Channel: requests.Email, Note: "by mail"}, clerk, at)
		}
		first, err := add(requests.Access, " Ann@Example.com ", t0)
		if err != nil {
			t.Fatal(err)
		}
		if first.Email != "ann@example.com" || first.CustomerID != c.ID || first.State != requests.Received ||
			!first.DueAt.Equal(time.Date(2026, 2, 28, 9, 30, 0, 0, time.UTC)) || first.Verified() {
			t.Fatalf("created %+v", first)
		}
		// The same request again returns the open one and creates nothing.
		again, err := add(requests.Access, "ann@example.com", t0.Add(time.Hour))
		wantRefusal(t, err, requests.ErrDuplicate)
		if again.ID != first.ID || !strings.Contains(err.Error(), "No. ") {
			t.Fatalf("duplicate returned %+v, %v", again, err)
		}
		evs, _ := requests.Events(ctx, d, first.ID)
		if len(evs) != 2 || evs[1].From != evs[1].To || !strings.Contains(evs[1].Note, "arrived again") {
			t.Fatalf("history %+v", evs)
		}
		// Four more kinds fit in a day; the sixth new request is refused,
		// and repeats of open ones still answer without counting.
		for _, k := range []requests.Kind{requests.Erasure, requests.Restriction, requests.Objection, requests.Rectification} {
			if _, err := add(k, "ann@example.com", t0); err != nil {
				t.Fatal(err)
			}
		}
		_, err = add(requests.Portability, "ann@example.com", t0)
		wantRefusal(t, err, requests.ErrRateLimited)
		_, err = add(requests.Erasure, "ann@example.com", t0)
		wantRefusal(t, err, requests.ErrDuplicate)
		// Another address is not affected; the next day the limit is new.
		if _, err := add(requests.Portability, "bob@example.com", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := add(requests.Portability, "ann@example.com", t0.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		// A closed request does not block a new one of its kind.
		if _, err := requests.Refuse(ctx, d, first.ID, "identity could not be verified", clerk, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := add(requests.Access, "ann@example.com", t0.Add(25*time.Hour)); err != nil {
			t.Fatal(err)
		}

		// A signed-in customer may only ask about their own address.
		_, err = requests.Create(ctx, d, lim, requests.NewRequest{Kind: requests.Erasure, Email: "bob@example.com", Channel: requests.SelfService,
			CustomerID: c.ID}, requests.RequesterActor(c.ID, ""), t0)
		wantRefusal(t, err, requests.ErrNotYours)
		own, err := requests.Create(ctx, d, lim, requests.NewRequest{Kind: requests.Withdrawal, Email: c.Email, Channel: requests.SelfService,
			CustomerID: c.ID}, requests.RequesterActor(c.ID, ""), t0.Add(48*time.Hour))
		if err != nil || !own.Verified() {
			t.Fatalf("self-service request: %+v, %v", own, err)
		}

		// Bad input says what to do.
		for _, n := range []requests.NewRequest{
			{Kind: "gossip", Email: "x@example.com", Channel: requests.Email},
			{Kind: requests.Access, Email: "not an address", Channel: requests.Email},
			{Kind: requests.Access, Email: "x@example.com", Channel: "pigeon"},
			{Kind: requests.Access, Email: "x@example.com", Channel: requests.Email, ReceivedAt: t0.Add(time.Hour)},
			{Kind: requests.Access, Email: "x@example.com", Channel: requests.Email, Note: strings.Repeat("x", 4001)},
		} {
			_, err := requests.Create(ctx, d, lim, n, clerk, t0)
			wantRefusal(t, err, requests.ErrInvalid)
		}

		got := actions(t, d, "privacy_request.")
		for _, want := range []string{"privacy_request.created", "privacy_request.duplicate", "privacy_request.refused_rate_limited", "privacy_request.refused_not_yours"} {
			if !slices.Contains(got, want) {
				t.Errorf("audit log lacks %s: %v", want, got)
			}
		}
	})
}

// TestSimultaneousRequestsMakeOne: two copies of one request arriving at
// the same moment (two instances) end as one request and one duplicate.
func TestSimultaneousRequestsMakeOne(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		setup(t, d)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = requests.Create(context.Background(), d, nil, requests.NewRequest{Kind: requests.Erasure, Email: "race@example.com",
					Channel: requests.Email}, requests.System, t0)
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, requests.ErrDuplicate):
				t.Fatal(err)
			}
		}
		list, err := requests.List(context.Background(), d, requests.Filter{})
		if ok != 1 || err != nil || len(list) != 1 {
			t.Fatalf("%d created, %d listed (%v)", ok, len(list), err)
		}
	})
}

func TestVerificationByCode(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		setup(t, d)
		lim := ratelimit.New(d, []byte("test secret"))
		c := customer(t, d, "ann@example.com")
		r := create(t, d, requests.Access, "ann@example.com", t0)

		_, err := requests.Verify(ctx, d, r.ID, "ABCD-EFGH", clerk, t0)
		wantRefusal(t, err, requests.ErrState) // no code sent yet

		// The code goes to the account's address, which changed since.
		if _, err := d.ExecContext(ctx, `UPDATE customers SET email = 'ann.new@example.com' WHERE id = $1`, c.ID); err != nil {
			t.Fatal(err)
		}
		r, err = requests.SendCode(ctx, d, lim, r.ID, clerk, t0)
		if err != nil || r.State != requests.Verifying || !r.CodePending {
			t.Fatalf("send code: %+v, %v", r, err)
		}
		to, code := lastCode(t, d)
		if to != "ann.new@example.com" {
			t.Fatalf("code sent to %s, want the account's address", to)
		}
		var stored string
		if err := d.QueryRowContext(ctx, `SELECT code_hash FROM privacy_requests WHERE id = $1`, r.ID).Scan(&stored); err != nil ||
			strings.Contains(stored, strings.ReplaceAll(code, "-", "")) || len(stored) != 64 {
			t.Fatalf("the code is not stored hashed: %q", stored)
		}

		// A wrong code counts; the history and the audit log say so.
		_, err = requests.Verify(ctx, d, r.ID, "AAAA-AAAA", clerk, t0)
		wantRefusal(t, err, requests.ErrWrongCode)
		if !strings.Contains(err.Error(), "4 attempts left") {
			t.Fatalf("message %q", err)
		}
		// It expires after a day.
		_, err = requests.Verify(ctx, d, r.ID, code, clerk, t0.Add(requests.CodeTTL+time.Second))
		wantRefusal(t, err, requests.ErrCodeExpired)

		// A new code replaces the old one, which no longer works.
		if _, err := requests.SendCode(ctx, d, lim, r.ID, clerk, t0.Add(25*time.Hour)); err != nil {
			t.Fatal(err)
		}
		_, code2 := lastCode(t, d)
		now := t0.Add(25 * time.Hour)
		if code2 != code {
			_, err = requests.Verify(ctx, d, r.ID, code, clerk, now)
			wantRefusal(t, err, requests.ErrWrongCode)
		}
		// Five wrong codes and even the right one is refused.
		for i := 0; i < 4; i++ {
			_, err = requests.Verify(ctx, d, r.ID, "BBBB-BBBB", clerk, now)
			wantRefusal(t, err, requests.ErrWrongCode)
		}
		if code2 != code {
			_, err = requests.Verify(ctx, d, r.ID, code2, clerk, now)
			wantRefusal(t, err, requests.ErrTooManyAttempts)
		}

		// A fresh code, typed loosely, verifies once and starts the work.
		if _, err := requests.SendCode(ctx, d, lim, r.ID, clerk, now); err != nil {
			t.Fatal(err)
		}
		_, code3 := lastCode(t, d)
		r, err = requests.Verify(ctx, d, r.ID, " "+strings.ToLower(strings.ReplaceAll(code3, "-", " "))+" ", clerk, now)
		if err != nil || r.State != requests.InProgress || !r.Verified() || r.CodePending {
			t.Fatalf("verify: %+v, %v", r, err)
		}
		// Reused: refused and recorded.
		_, err = requests.Verify(ctx, d, r.ID, code3, clerk, now)
		wantRefusal(t, err, requests.ErrCodeUsed)
		_, err = requests.SendCode(ctx, d, lim, r.ID, clerk, now)
		wantRefusal(t, err, requests.ErrState)

		// Codes per request per day are limited: this request had three.
		r2 := create(t, d, requests.Erasure, "zed@example.com", now)
		for i := 0; i < requests.LimitCodes.Max; i++ {
			if _, err := requests.SendCode(ctx, d, lim, r2.ID, clerk, now); err != nil {
				t.Fatal(err)
			}
		}
		_, err = requests.SendCode(ctx, d, lim, r2.ID, clerk, now)
		wantRefusal(t, err, requests.ErrRateLimited)

		evs, _ := requests.Events(ctx, d, r.ID)
		var refusals int
		for _, e := range evs {
			if strings.Contains(e.Note, "refused") {
				refusals++
				if e.From != e.To {
					t.Errorf("a refused step changed the state: %+v", e)
				}
			}
		}
		if refusals != 11 {
			t.Errorf("%d refused steps in the history, want 11:\n%+v", refusals, evs)
		}
		got := actions(t, d, "privacy_request.verify")
		if n := len(got) - 1; n != 10 || !slices.Contains(got, "privacy_request.verify") {
			t.Errorf("audit: %v", got)
		}
	})
}

func TestDoubtAsksForMoreThanTheCode(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		setup(t, d)
		r := create(t, d, requests.Erasure, "cat@example.com", t0)
		_, err := requests.Doubt(ctx, d, r.ID, "  ", clerk, t0)
		wantRefusal(t, err, requests.ErrInvalid)
		if _, err := requests.Doubt(ctx, d, r.ID, "the letter was signed with another name", clerk, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := requests.SendCode(ctx, d, nil, r.ID, clerk, t0); err != nil {
			t.Fatal(err)
		}
		_, code := lastCode(t, d)
		r, err = requests.Verify(ctx, d, r.ID, code, clerk, t0)
		if err != nil || r.State != requests.Verifying || !r.Verified() || !r.Allows("start", t0) {
			t.Fatalf("verified with a doubt: %+v, %v", r, err)
		}
		_, err = requests.Start(ctx, d, r.ID, "", clerk, t0)
		wantRefusal(t, err, requests.ErrNeedsEvidence)
		r, err = requests.Start(ctx, d, r.ID, "saw a copy of the signed contract", clerk, t0)
		if err != nil || r.State != requests.InProgress {
			t.Fatalf("start: %+v, %v", r, err)
		}
		_, err = requests.Doubt(ctx, d, r.ID, "too late", clerk, t0)
		wantRefusal(t, err, requests.ErrState)

		// Without verification nothing starts.
		r2 := create(t, d, requests.Access, "dog@example.com", t0)
		_, err = requests.Start(ctx, d, r2.ID, "", clerk, t0)
		wantRefusal(t, err, requests.ErrState)
	})
}

// inProgress creates a request and takes it through verification.
func inProgress(t *testing.T, d *db.DB, kind requests.Kind, email string, at time.Time) requests.Request {
	t.Helper()
	ctx := context.Background()
	r := create(t, d, kind, email, at)
	if _, err := requests.SendCode(ctx, d, nil, r.ID, clerk, at); err != nil {
		t.Fatal(err)
	}
	_, code := lastCode(t, d)
	r, err := requests.Verify(ctx, d, r.ID, code, clerk, at)
	if err != nil || r.State != requests.InProgress {
		t.Fatalf("verify: %+v, %v", r, err)
	}
	return r
}

func TestExtensionOnceWithinTheFirstMonth(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		setup(t, d)
		r := create(t, d, requests.Access, "eve@example.com", t0)
		_, err := requests.Extend(ctx, d, r.ID, 2, "many requests", clerk, t0)
		wantRefusal(t, err, requests.ErrState)

		r = inProgress(t, d, requests.Access, "fay@example.com", t0)
		_, err = requests.Extend(ctx, d, r.ID, 3, "many requests", clerk, t0)
		wantRefusal(t, err, requests.ErrInvalid)
		_, err = requests.Extend(ctx, d, r.ID, 2, "", clerk, t0)
		wantRefusal(t, err, requests.ErrInvalid)
		r, err = requests.Extend(ctx, d, r.ID, 2, "Your data is spread over\nthree archived systems.", clerk, t0.AddDate(0, 0, 20))
		if err != nil || r.State != requests.Extended || !r.ExtendedDueAt.Equal(time.Date(2026, 4, 30, 9, 30, 0, 0, time.UTC)) ||
			!r.Deadline().Equal(r.ExtendedDueAt) {
			t.Fatalf("extend: %+v, %v", r, err)
		}
		ms := outbox(t, d, "request_extended")
		if len(ms) != 1 || ms[0].To != "fay@example.com" || !strings.Contains(ms[0].Text, "three archived systems") ||
			!strings.Contains(ms[0].Text, "30 April 2026") {
			t.Fatalf("extension mail: %+v", ms)
		}
		_, err = requests.Extend(ctx, d, r.ID, 1, "again", clerk, t0.AddDate(0, 0, 21))
		wantRefusal(t, err, requests.ErrExtension)

		// After the first month it is too late.
		late := inProgress(t, d, requests.Erasure, "gil@example.com", t0)
		_, err = requests.Extend(ctx, d, late.ID, 1, "complex", clerk, late.DueAt.Add(time.Second))
		wantRefusal(t, err, requests.ErrExtension)
		if !strings.Contains(err.Error(), "28 February 2026") {
			t.Fatalf("message %q", err)
		}
		if n := len(outbox(t, d, "request_extended")); n != 1 {
			t.Fatalf("%d extension mails", n)
		}
		if got := actions(t, d, "privacy_request.extend"); !slices.Contains(got, "privacy_request.extend") || !slices.Contains(got, "privacy_request.extend_refused") {
			t.Fatalf("audit: %v", got)
		}
	})
}

func TestRefusalTellsTheRightToComplain(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		setup(t, d)
		r := create(t, d, requests.Erasure, "hal@example.com", t0)
		_, err := requests.Refuse(ctx, d, r.ID, " ", clerk, t0)
		wantRefusal(t, err, requests.ErrInvalid)
		r, err = requests.Refuse(ctx, d, r.ID, "The request asks about the data of another person.", clerk, t0.Add(time.Hour))
		if err != nil || r.State != requests.Refused || r.CompletedAt.IsZero() || r.RefusalReason == "" {
			t.Fatalf("refuse: %+v, %v", r, err)
		}
		ms := outbox(t, d, "request_refused")
		if len(ms) != 1 || ms[0].To != "hal@example.com" {
			t.Fatalf("refusal mails: %+v", ms)
		}
		text := strings.Join(strings.Fields(ms[0].Text), " ")
		for _, want := range []string{"data of another person", "complaint with a data protection supervisory authority", "Germany", "court"} {
			if !strings.Contains(text, want) {
				t.Errorf("refusal mail lacks %q:\n%s", want, ms[0].Text)
			}
		}
		_, err = requests.Refuse(ctx, d, r.ID, "again", clerk, t0)
		wantRefusal(t, err, requests.ErrState)
		_, err = requests.Complete(ctx, d, privacy.Declared, r.ID, requests.Completion{PrivacyPageURL: "https://x"}, clerk, t0)
		wantRefusal(t, err, requests.ErrState)
		_, err = requests.Refuse(ctx, d, 999, "x", clerk, t0)
		wantRefusal(t, err, requests.ErrNotFound)
	})
}

func TestCompletingAnErasureErasesAndKeepsTheRecord(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		setup(t, d)
		c := customer(t, d, "ivy@example.com")
		other := customer(t, d, "jon@example.com")
		r := inProgress(t, d, requests.Erasure, "ivy@example.com", t0)
		var asked []string
		res, err := requests.Complete(ctx, d, privacy.Declared, r.ID, requests.Completion{Note: "asked by phone",
			Processors: privacy.Processors{"stripe": askedProcessor{&asked}}}, clerk, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if res.Erasure == nil || res.Request.State != requests.Completed || res.Request.CompletedAt.IsZero() || len(asked) != 0 {
			t.Fatalf("complete: %+v", res)
		}
		// The one erasure recorded itself, by the clerk, with the erasure.
		es, err := audit.List(ctx, d, audit.Filter{Action: "privacy.erased"})
		if err != nil || len(es) != 1 || es[0].ActorType != audit.ActorStaff || es[0].ActorID != 7 || es[0].SourceNet != "192.0.2.0/24" ||
			es[0].SubjectID != fmt.Sprint(c.ID) || !strings.Contains(es[0].Detail, "privacy request "+fmt.Sprint(r.ID)) {
			t.Fatalf("erasure audit entries: %+v, %v", es, err)
		}
		// The data is gone.
		var n int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM customers WHERE email = 'ivy@example.com'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the account still has the address (%d, %v)", n, err)
		}
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM customer_sessions WHERE customer_id = $1`, c.ID).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d sessions left (%v)", n, err)
		}
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM customer_sessions WHERE customer_id = $1`, other.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("another customer's session was touched (%d, %v)", n, err)
		}
		// The record of the request stays, with counts and no data.
		got, err := requests.ByID(ctx, d, r.ID)
		if err != nil || got.Email != "ivy@example.com" || got.State != requests.Completed {
			t.Fatalf("request after erasure: %+v, %v", got, err)
		}
		for _, want := range []string{"erased: ", "customers 1 row anonymised", "customer_sessions 1 row deleted", "kept under legal hold: ", "privacy_requests until 2029-01-31", "note: asked by phone"} {
			if !strings.Contains(got.Outcome, want) {
				t.Errorf("outcome lacks %q: %s", want, got.Outcome)
			}
		}
		evs, _ := requests.Events(ctx, d, r.ID)
		if len(evs) != 4 || evs[3].To != requests.Completed {
			t.Fatalf("history: %+v", evs)
		}
		// The requester is told, after the erasure removed their mail.
		ms := outbox(t, d, "request_done")
		if len(ms) != 1 || ms[0].To != "ivy@example.com" || !strings.Contains(ms[0].Text, "kept by law") || len(outbox(t, d, "request_verify")) != 0 {
			t.Fatalf("done mail: %+v", ms)
		}
		// Erasing again (the person asks twice) still keeps the record.
		if _, err := privacy.Erase(ctx, d, privacy.Declared, privacy.EraseRequest{Subject: privacy.SubjectRef{Kind: privacy.Customer, ID: c.ID, Email: "ivy@example.com"}}, nil, t0); err != nil {
			t.Fatal(err)
		}
		if again, err := requests.ByID(ctx, d, r.ID); err != nil || again.Outcome != got.Outcome || again.Email != got.Email {
			t.Fatalf("second erasure changed the record: %+v, %v", again, err)
		}
		if n, err := audit.Verify(ctx, d, nil); err != nil || n == 0 {
			t.Fatalf("audit chain: %d, %v", n, err)
		}
	})
}

func TestCompletingAccessAndManualKinds(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		setup(t, d)
		customer(t, d, "kim@example.com")
		r := inProgress(t, d, requests.Access, "kim@example.com", t0)
		_, err := requests.Complete(ctx, d, privacy.Declared, r.ID, requests.Completion{}, clerk, t0)
		if err == nil {
			t.Fatal("an access request completed without saying where to download")
		}
		res, err := requests.Complete(ctx, d, privacy.Declared, r.ID, requests.Completion{PrivacyPageURL: "https://shop.example.com/account/privacy"}, clerk, t0)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^export: \d+ rows from \d+ table\(s\) \(.*customers.*privacy_requests.*\)`).MatchString(res.Request.Outcome) {
			t.Fatalf("outcome %q", res.Request.Outcome)
		}
		ms := outbox(t, d, "request_done")
		if len(ms) != 1 || !strings.Contains(ms[0].Text, "https://shop.example.com/account/privacy") || strings.Contains(ms[0].Text, "kept by law") {
			t.Fatalf("done mail: %+v", ms)
		}

		rect := inProgress(t, d, requests.Rectification, "kim@example.com", t0)
		_, err = requests.Complete(ctx, d, privacy.Declared, rect.ID, requests.Completion{Note: " "}, clerk, t0)
		wantRefusal(t, err, requests.ErrInvalid)
		res, err = requests.Complete(ctx, d, privacy.Declared, rect.ID, requests.Completion{Note: "billing name corrected"}, clerk, t0)
		if err != nil || res.Request.Outcome != "done by staff: billing name corrected" {
			t.Fatalf("rectification: %+v, %v", res.Request, err)
		}
		got := actions(t, d, "privacy_request.")
		for _, want := range []string{"created", "send_code", "verify", "complete"} {
			if !slices.Contains(got, "privacy_request."+want) {
				t.Errorf("no audit entry for %s: %v", want, got)
			}
		}
	})
}

func TestListAndUrgency(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		setup(t, d)
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		late := create(t, d, requests.Access, "late@example.com", now.AddDate(0, -1, -3))   // due 7 March
		soon := create(t, d, requests.Erasure, "soon@example.com", now.AddDate(0, -1, 4))   // due 14 March
		fresh := create(t, d, requests.Erasure, "fresh@example.com", now.AddDate(0, 0, -1)) // due 9 April
		closed := create(t, d, requests.Objection, "done@example.com", now.AddDate(0, -2, 0))
		if _, err := requests.Refuse(ctx, d, closed.ID, "withdrawn by the requester", clerk, now); err != nil {
			t.Fatal(err)
		}
		all, err := requests.List(ctx, d, requests.Filter{})
		if err != nil || len(all) != 4 || all[0].ID != late.ID || all[1].ID != soon.ID || all[2].ID != fresh.ID || all[3].ID != closed.ID {
			t.Fatalf("list order: %v %+v", err, all)
		}
		over, err := requests.List(ctx, d, requests.Filter{Overdue: true, Now: now})
		if err != nil || len(over) != 1 || over[0].ID != late.ID {
			t.Fatalf("overdue: %+v, %v", over, err)
		}
		ref, err := requests.List(ctx, d, requests.Filter{State: requests.Refused})
		if err != nil || len(ref) != 1 || ref[0].ID != closed.ID {
			t.Fatalf("refused: %+v, %v", ref, err)
		}
		o, s, err := requests.Urgency(ctx, d, now)
		if err != nil || o != 1 || s != 1 {
			t.Fatalf("urgency %d %d %v", o, s, err)
		}
	})
}

func TestDailyDigest(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		setup(t, d)
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		var owners []int64
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			for _, m := range []struct {
				email string
				role  staff.Role
			}{{"o1@milterworks.example", staff.Owner}, {"o2@milterworks.example", staff.Owner}, {"gone@milterworks.example", staff.Owner},
				{"sup@milterworks.example", staff.Support}} {
				a, err := staff.Create(ctx, tx, m.email, "", m.role, now)
				if err != nil {
					return err
				}
				if m.role == staff.Owner {
					owners = append(owners, a.ID)
				}
			}
			return staff.Disable(ctx, tx, owners[2], now)
		})
		if err != nil {
			t.Fatal(err)
		}
		// Nothing due: nothing sent.
		create(t, d, requests.Erasure, "fresh@example.com", now)
		if n, err := requests.SendDigest(ctx, d, now); err != nil || n != 0 {
			t.Fatalf("empty digest: %d, %v", n, err)
		}
		late := create(t, d, requests.Access, "late@example.com", now.AddDate(0, -1, -3))
		soon := create(t, d, requests.Erasure, "soon@example.com", now.AddDate(0, -1, 4))
		g, err := requests.Digest(ctx, d, now)
		if err != nil || len(g.Overdue) != 1 || g.Overdue[0].ID != late.ID || len(g.DueSoon) != 1 || g.DueSoon[0].ID != soon.ID {
			t.Fatalf("digest: %+v, %v", g, err)
		}
		n, err := requests.SendDigest(ctx, d, now)
		if err != nil || n != 2 {
			t.Fatalf("sent to %d owners (%v), want the 2 active ones", n, err)
		}
		ms := outbox(t, d, "privacy_digest")
		if len(ms) != 2 || ms[0].To != "o1@milterworks.example" || ms[1].To != "o2@milterworks.example" ||
			ms[0].Dedup != "privacy-digest:2026-03-10:staff-"+itoa(owners[0]) {
			t.Fatalf("digest mails: %+v", ms)
		}
		text := ms[0].Text
		for _, want := range []string{"OVERDUE", "No. " + itoa(late.ID) + " · Access (Art. 15) · received · was due 7 March 2026 (3 day(s) ago)",
			"DUE WITHIN 7 DAYS", "No. " + itoa(soon.ID) + " · Erasure (Art. 17) · received · due 14 March 2026 (in 4 day(s))"} {
			if !strings.Contains(text, want) {
				t.Errorf("digest lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "@example.com") {
			t.Errorf("the digest names requesters' addresses:\n%s", text)
		}
		// Once a day, however often it runs.
		if n, err := requests.SendDigest(ctx, d, now.Add(6*time.Hour)); err != nil || n != 0 {
			t.Fatalf("second run the same day: %d, %v", n, err)
		}
		if n, err := requests.SendDigest(ctx, d, now.Add(24*time.Hour)); err != nil || n != 2 {
			t.Fatalf("next day: %d, %v", n, err)
		}
		if got := actions(t, d, "privacy_request.digest_sent"); len(got) != 2 {
			t.Fatalf("audit: %v", got)
		}
	})
}

func TestPurgeAfterThreeYears(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		setup(t, d)
		old := create(t, d, requests.Access, "old@example.com", t0)
		if _, err := requests.Refuse(ctx, d, old.ID, "not verified", clerk, t0); err != nil {
			t.Fatal(err)
		}
		open := create(t, d, requests.Erasure, "open@example.com", t0)
		// The inventory-driven retention purge removes closed requests
		// three years on, with their history.
		if _, err := privacy.Purge(ctx, d, privacy.Declared, t0.AddDate(3, 0, 1)); err != nil {
			t.Fatal(err)
		}
		if _, err := requests.ByID(ctx, d, old.ID); !errors.Is(err, requests.ErrNotFound) {
			t.Fatalf("old request: %v", err)
		}
		if evs, _ := requests.Events(ctx, d, old.ID); len(evs) != 0 {
			t.Fatalf("history left: %+v", evs)
		}
		if _, err := requests.ByID(ctx, d, open.ID); err != nil {
			t.Fatalf("open request purged: %v", err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestRefusalsAreRefuseErrors: the sentinels are refuse.Error values of
// the kind their status needs, and a specific refusal still matches its
// sentinel (and no other) with errors.Is.
func TestRefusalsAreRefuseErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		kind refuse.Kind
	}{
		{requests.ErrNotFound, refuse.NotFound}, {requests.ErrInvalid, refuse.Invalid}, {requests.ErrState, refuse.Conflict},
		{requests.ErrDuplicate, refuse.Conflict}, {requests.ErrRateLimited, refuse.Limited}, {requests.ErrNotYours, refuse.Forbidden},
		{requests.ErrNoCode, refuse.Conflict}, {requests.ErrWrongCode, refuse.Invalid}, {requests.ErrCodeExpired, refuse.Gone},
		{requests.ErrCodeUsed, refuse.Gone}, {requests.ErrTooManyAttempts, refuse.Limited}, {requests.ErrExtension, refuse.Conflict},
		{requests.ErrNeedsEvidence, refuse.Invalid},
	} {
		rf, ok := refuse.As(fmt.Errorf("step: %w", tc.err))
		if !ok || rf.Kind != tc.kind || rf.Code == "" || rf.Msg == "" {
			t.Errorf("%v: refuse.As = %+v, %v; want kind %v", tc.err, rf, ok, tc.kind)
		}
		if legacy, ok := requests.IsRefusal(tc.err); !ok || legacy != rf {
			t.Errorf("%v: IsRefusal disagrees with refuse.As", tc.err)
		}
	}
	specific := requests.ErrState.With("This request is completed already.")
	if !errors.Is(specific, requests.ErrState) || errors.Is(specific, requests.ErrExtension) || errors.Is(specific, requests.ErrNotFound) {
		t.Error("a specific refusal does not match its sentinel alone")
	}
}

// askedProcessor records the references it is asked to delete.
type askedProcessor struct{ asked *[]string }

func (a askedProcessor) DeleteCustomer(_ context.Context, ref string) error {
	*a.asked = append(*a.asked, ref)
	return nil
}
