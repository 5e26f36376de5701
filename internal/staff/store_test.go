package staff_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
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
