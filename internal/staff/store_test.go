package staff_test

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
)

var t0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func init() {
	staff.DefaultArgon2 = staff.Argon2Params{Time: 1, MemoryK: 1024, Threads: 1, KeyLen: 32}
}

func tx(t testing.TB, d *db.DB, fn func(tx *sql.Tx) error) {
	t.Helper()
	if err := d.Tx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func newAccount(t testing.TB, d *db.DB, email string, role staff.Role) staff.Account {
	t.Helper()
	var a staff.Account
	tx(t, d, func(tx *sql.Tx) (err error) {
		a, err = staff.Create(context.Background(), tx, email, "", role, t0)
		if err != nil {
			return err
		}
		return staff.SetPassword(context.Background(), tx, a.ID, "a long enough password", t0)
	})
	return a
}

func TestTokensWorkOnceAndExpire(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := newAccount(t, d, "a@example.com", staff.Support)
		var first, second string
		tx(t, d, func(tx *sql.Tx) (err error) {
			first, err = staff.IssueToken(ctx, tx, a.ID, staff.ResetToken, t0)
			return err
		})
		tx(t, d, func(tx *sql.Tx) (err error) {
			second, err = staff.IssueToken(ctx, tx, a.ID, staff.ResetToken, t0)
			return err
		})
		if _, err := staff.PeekToken(ctx, d, first, staff.ResetToken, t0); !errors.Is(err, staff.ErrInvalidToken) {
			t.Fatal("an older link still works after a new one was issued")
		}
		if _, err := staff.PeekToken(ctx, d, second, staff.SetupToken, t0); !errors.Is(err, staff.ErrInvalidToken) {
			t.Fatal("a reset link works as a setup link")
		}
		if _, err := staff.PeekToken(ctx, d, second, staff.ResetToken, t0.Add(time.Hour)); !errors.Is(err, staff.ErrInvalidToken) {
			t.Fatal("a reset link works after an hour")
		}
		// Two requests race with the same link: exactly one wins.
		var wg sync.WaitGroup
		wins := make(chan bool, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := d.Tx(ctx, func(tx *sql.Tx) error {
					_, err := staff.UseToken(ctx, tx, second, staff.ResetToken, t0.Add(time.Minute))
					return err
				})
				wins <- err == nil
			}()
		}
		wg.Wait()
		close(wins)
		n := 0
		for w := range wins {
			if w {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d requests used one link, want 1", n)
		}
	})
}

func TestPasswordChecksAndLastOwner(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		owner := newAccount(t, d, "Owner@Example.com", staff.Owner)
		if owner.Email != "owner@example.com" {
			t.Fatalf("email stored as %q, want lower case", owner.Email)
		}
		if _, err := staff.CheckPassword(ctx, d, "OWNER@example.com ", "a long enough password"); err != nil {
			t.Fatalf("sign-in with differently written address: %v", err)
		}
		for _, tc := range []struct{ email, pw string }{{"owner@example.com", "wrong"}, {"ghost@example.com", "a long enough password"}} {
			if _, err := staff.CheckPassword(ctx, d, tc.email, tc.pw); !errors.Is(err, staff.ErrBadCredentials) {
				t.Errorf("CheckPassword(%s) = %v, want ErrBadCredentials", tc.email, err)
			}
		}
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return staff.Disable(ctx, tx, owner.ID, t0) }); !errors.Is(err, staff.ErrLastOwner) {
			t.Fatalf("disabling the last owner: %v", err)
		}
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return staff.SetRole(ctx, tx, owner.ID, staff.Analyst, t0) }); !errors.Is(err, staff.ErrLastOwner) {
			t.Fatalf("demoting the last owner: %v", err)
		}
		second := newAccount(t, d, "second@example.com", staff.Owner)
		tx(t, d, func(tx *sql.Tx) error { return staff.Disable(ctx, tx, owner.ID, t0) })
		if _, err := staff.CheckPassword(ctx, d, owner.Email, "a long enough password"); !errors.Is(err, staff.ErrBadCredentials) {
			t.Fatal("a disabled account signed in")
		}
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return staff.SetRole(ctx, tx, second.ID, staff.Support, t0) }); !errors.Is(err, staff.ErrLastOwner) {
			t.Fatalf("demoting the last active owner: %v", err)
		}
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := staff.Create(ctx, tx, "second@EXAMPLE.com", "", staff.Support, t0)
			return err
		}); !errors.Is(err, staff.ErrExists) {
			t.Fatalf("duplicate address: %v", err)
		}
	})
}

func TestSecondFactorCodeRacesOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := newAccount(t, d, "a@example.com", staff.Owner)
		k, _ := staff.NewTOTPKey("t", a.Email)
		code, _ := staff.TOTPCode(k.Secret(), t0)
		tx(t, d, func(tx *sql.Tx) error {
			_, err := staff.EnrolTOTP(ctx, tx, a.ID, k.Secret(), code, t0)
			return err
		})
		later := t0.Add(30 * time.Second)
		next, _ := staff.TOTPCode(k.Secret(), later)
		var wg sync.WaitGroup
		oks := make(chan bool, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := d.Tx(ctx, func(tx *sql.Tx) error {
					_, err := staff.VerifySecondFactor(ctx, tx, a.ID, next, later)
					return err
				})
				oks <- err == nil
			}()
		}
		wg.Wait()
		close(oks)
		n := 0
		for ok := range oks {
			if ok {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("one code accepted %d times", n)
		}
	})
}

// BenchmarkLookupSession is the cost a session check adds to each console
// request (SQLite; the touch write happens at most once a minute).
func BenchmarkLookupSession(b *testing.B) {
	d := testutil.SQLite(b)
	ctx := context.Background()
	a := newAccount(b, d, "a@example.com", staff.Support)
	var token string
	tx(b, d, func(tx *sql.Tx) (err error) {
		token, err = staff.StartSession(ctx, tx, a.ID, staff.LevelFull, t0)
		return err
	})
	b.ResetTimer()
	for b.Loop() {
		if _, err := staff.LookupSession(ctx, d, token, t0.Add(10*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryBaseline is the cheapest query on the same database, the
// same-run baseline for BenchmarkLookupSession.
func BenchmarkQueryBaseline(b *testing.B) {
	d := testutil.SQLite(b)
	ctx := context.Background()
	for b.Loop() {
		if err := d.Ping(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCreateSameAccountAtOnce: of several creations of one address at the
// same time (the CLI and the console's team page), one succeeds and the
// others are refused with ErrExists; none fails otherwise.
func TestCreateSameAccountAtOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const n = 6
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = d.Tx(ctx, func(tx *sql.Tx) error {
					_, err := staff.Create(ctx, tx, "twice@example.com", "", staff.Support, t0)
					return err
				})
			}()
		}
		close(start)
		wg.Wait()
		created := 0
		for _, err := range errs {
			switch {
			case err == nil:
				created++
			case errors.Is(err, staff.ErrExists):
				if rf, ok := refuse.As(err); !ok || rf.Kind != refuse.Conflict {
					t.Errorf("ErrExists is not a conflict refusal: %+v", rf)
				}
			default:
				t.Errorf("concurrent create failed otherwise: %v", err)
			}
		}
		var rows int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM staff WHERE email = 'twice@example.com'`).Scan(&rows); err != nil || created != 1 || rows != 1 {
			t.Fatalf("created %d, rows %d, %v; want one", created, rows, err)
		}
	})
}

// TestStaffRefusals: what Create, SetRole and the password policy refuse
// are refusals naming the field, with the messages people read.
func TestStaffRefusals(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		create := func(email, name string, role staff.Role) error {
			return d.Tx(ctx, func(tx *sql.Tx) error {
				_, err := staff.Create(ctx, tx, email, name, role, t0)
				return err
			})
		}
		for _, tc := range []struct {
			err   error
			field string
			msg   string
		}{
			{create("not an address", "", staff.Support), "email", "is not an email address"},
			{create("a@example.com", "", "boss"), "role", `unknown role "boss"`},
			{create("a@example.com", strings.Repeat("x", 201), staff.Support), "name", "The name is too long: use at most 200 characters"},
			// Lengths are characters, not bytes.
			{create("a@example.com", strings.Repeat("ö", 201), staff.Support), "name", "The name is too long"},
			// A name that reads backwards in the staff list ("Sam" then a
			// right-to-left override), a line break, a NUL, broken UTF-8.
			{create("a@example.com", "Sam \u202egnp.exe", staff.Support), "name", "changes the direction of the text"},
			{create("a@example.com", "Sam\nOwner", staff.Support), "name", "line break"},
			{create("a@example.com", "Sam\x00", staff.Support), "name", "NUL"},
			{create("a@example.com", "Sam \xff", staff.Support), "name", "not text"},
			{staff.CheckPasswordPolicy("short"), "password", "choose a password of 12"},
		} {
			rf, ok := refuse.As(tc.err)
			if !ok || rf.Kind != refuse.Invalid || rf.Field != tc.field || !strings.Contains(rf.Msg, tc.msg) {
				t.Errorf("refusal = %+v (%v), want field %s saying %q", rf, tc.err, tc.field, tc.msg)
			}
		}
		if err := staff.CheckPasswordPolicy("short"); !errors.Is(err, staff.ErrWeakPassword) {
			t.Error("a short password is not ErrWeakPassword")
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM staff`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d accounts created by refused calls (%v)", n, err)
		}
		if err := create("c@example.com", strings.Repeat("ö", 200), staff.Support); err != nil {
			t.Errorf("a name of 200 characters (400 bytes) was refused: %v", err)
		}
		a := newAccount(t, d, "b@example.com", staff.Support)
		err := d.Tx(ctx, func(tx *sql.Tx) error { return staff.SetRole(ctx, tx, a.ID, "boss", t0) })
		if !errors.Is(err, staff.ErrUnknownRole) {
			t.Errorf("SetRole(boss) = %v, want ErrUnknownRole", err)
		}
		if _, err := staff.ByID(ctx, d, 999); !errors.Is(err, staff.ErrNotFound) || errors.Is(err, staff.ErrExists) {
			t.Errorf("ByID(999) = %v", err)
		}
	})
}

// TestOwnersCannotDisableEachOtherAtOnce: with two owners, each disabling
// the other at the same moment must leave one owner. The first
// transaction stays open until the second is seen waiting for it (on
// PostgreSQL) or has finished without waiting (the bug); on SQLite the
// second cannot begin until the first ends.
func TestOwnersCannotDisableEachOtherAtOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := newAccount(t, d, "a@example.com", staff.Owner)
		b := newAccount(t, d, "b@example.com", staff.Owner)
		t1, err := d.Writer().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer t1.Rollback()
		if err := staff.Disable(ctx, t1, b.ID, t0); err != nil {
			t.Fatal(err)
		}
		second := make(chan error, 1)
		go func() {
			second <- d.Tx(ctx, func(tx *sql.Tx) error { return staff.Disable(ctx, tx, a.ID, t0) })
		}()
		var early error
		finished := false
		if d.Dialect == db.Postgres {
			var pid int
			if err := t1.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				t.Fatal(err)
			}
		wait:
			for {
				select {
				case early = <-second:
					finished = true
					break wait
				default:
				}
				var waiting int
				if err := d.Reader().QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
				if waiting > 0 {
					break
				}
				runtime.Gosched()
			}
		}
		if err := t1.Commit(); err != nil {
			t.Fatal(err)
		}
		if !finished {
			early = <-second
		}
		if !errors.Is(early, staff.ErrLastOwner) {
			t.Errorf("the second disable = %v, want ErrLastOwner", early)
		}
		var owners int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM staff WHERE role = 'owner' AND disabled_at IS NULL`).Scan(&owners); err != nil || owners != 1 {
			t.Fatalf("active owners = %d, %v; want 1", owners, err)
		}
	})
}

// TestRevokeSessionReportsWhatEnded: only a live session of the account
// asking ends; another account's session, an ended one and an unknown
// number are ErrSessionNotFound and change nothing.
func TestRevokeSessionReportsWhatEnded(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := newAccount(t, d, "a@example.com", staff.Support)
		b := newAccount(t, d, "b@example.com", staff.Support)
		var tokA, tokB string
		tx(t, d, func(tx *sql.Tx) (err error) {
			if tokA, err = staff.StartSession(ctx, tx, a.ID, staff.LevelFull, t0); err != nil {
				return err
			}
			tokB, err = staff.StartSession(ctx, tx, b.ID, staff.LevelFull, t0)
			return err
		})
		sa, err := staff.LookupSession(ctx, d, tokA, t0)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := staff.LookupSession(ctx, d, tokB, t0)
		if err != nil {
			t.Fatal(err)
		}
		revoke := func(staffID, sessionID int64) error {
			return d.Tx(ctx, func(tx *sql.Tx) error { return staff.RevokeSession(ctx, tx, staffID, sessionID, t0.Add(time.Minute)) })
		}
		for _, tc := range []struct {
			name           string
			staff, session int64
		}{{"another account's session", a.ID, sb.ID}, {"an unknown session", a.ID, sb.ID + 1000}} {
			err := revoke(tc.staff, tc.session)
			if rf, ok := refuse.As(err); !ok || rf.Kind != refuse.NotFound || !errors.Is(err, staff.ErrSessionNotFound) {
				t.Errorf("revoking %s: %v, want ErrSessionNotFound", tc.name, err)
			}
		}
		if _, err := staff.LookupSession(ctx, d, tokB, t0.Add(2*time.Minute)); err != nil {
			t.Fatalf("the other account's session ended: %v", err)
		}
		if err := revoke(a.ID, sa.ID); err != nil {
			t.Fatalf("revoking one's own session: %v", err)
		}
		if err := revoke(a.ID, sa.ID); !errors.Is(err, staff.ErrSessionNotFound) {
			t.Fatalf("revoking an ended session again: %v, want ErrSessionNotFound", err)
		}
	})
}

// TestRevokeWithoutSecondFactor ends the sessions of accounts without a
// second factor only.
func TestRevokeWithoutSecondFactor(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		plain := newAccount(t, d, "a@example.com", staff.Support)
		with := newAccount(t, d, "b@example.com", staff.Owner)
		k, err := staff.NewTOTPKey("test", with.Email)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := staff.TOTPCode(k.Secret(), t0)
		var tokPlain, tokWith string
		tx(t, d, func(tx *sql.Tx) (err error) {
			if _, err = staff.EnrolTOTP(ctx, tx, with.ID, k.Secret(), code, t0); err != nil {
				return err
			}
			if tokPlain, err = staff.StartSession(ctx, tx, plain.ID, staff.LevelFull, t0); err != nil {
				return err
			}
			tokWith, err = staff.StartSession(ctx, tx, with.ID, staff.LevelFull, t0)
			return err
		})
		var n int64
		tx(t, d, func(tx *sql.Tx) (err error) {
			n, err = staff.RevokeWithoutSecondFactor(ctx, tx, t0)
			return err
		})
		if n != 1 {
			t.Fatalf("%d sessions ended, want 1", n)
		}
		if _, err := staff.LookupSession(ctx, d, tokPlain, t0); !errors.Is(err, staff.ErrNoSession) {
			t.Errorf("the session without a second factor lives on: %v", err)
		}
		if _, err := staff.LookupSession(ctx, d, tokWith, t0); err != nil {
			t.Errorf("the session with a second factor ended: %v", err)
		}
	})
}

// TestTOTPKeyKeepsTheSecret: the key rebuilt from a secret is the same key,
// with the same otpauth link.
func TestTOTPKeyKeepsTheSecret(t *testing.T) {
	k, err := staff.NewTOTPKey("Milterworks staff", "sam@example.com")
	if err != nil {
		t.Fatal(err)
	}
	again, err := staff.TOTPKey("Milterworks staff", "sam@example.com", k.Secret())
	if err != nil || again.URL() != k.URL() {
		t.Fatalf("TOTPKey = %v, %v; want %s", again, err, k.URL())
	}
	if _, err := staff.TOTPKey("x", "y", "not base32!"); err == nil {
		t.Fatal("a damaged secret was accepted")
	}
}
