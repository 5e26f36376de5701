package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestReapplyLedgerAfterAnotherRestore: a database restored by other
// means (pg_restore on PostgreSQL) still holds a customer the ledger file
// says was erased after the dump; Reapply erases them, and only them.
func TestReapplyLedgerAfterAnotherRestore(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		price := seedPrice(t, d)
		before, after, kept := makeCustomer(t, d, 1, price), makeCustomer(t, d, 2, price), makeCustomer(t, d, 3, price)
		dir := d.DataDir()
		key, err := privacy.EnsureLedgerKey(dir)
		if err != nil {
			t.Fatal(err)
		}
		// What the lost database's erasures wrote to the data directory:
		// one before the dump (its person is back only if they came back
		// since, so it is not re-applied), one after.
		dump := base.Add(time.Hour)
		for c, when := range map[customer]time.Time{before: dump.Add(-time.Minute), after: dump.Add(time.Minute)} {
			if err := privacy.AppendLedgerFile(dir, key.Entry(privacy.SubjectRef{Kind: privacy.Customer, ID: c.ID, Email: c.Email}, when)); err != nil {
				t.Fatal(err)
			}
		}
		read, since, erased, err := Reapply(ctx, d, dir, dump, privacy.Declared, at(3), nil)
		if err != nil {
			t.Fatal(err)
		}
		if read != 2 || since != 1 || len(erased) != 1 || erased[0].ID != after.ID {
			t.Fatalf("read %d, %d since, erased %+v", read, since, erased)
		}
		if m := mentions(t, d, after.Email); len(m) != 0 {
			t.Errorf("%s is still there: %v", after.Email, m)
		}
		for _, c := range []customer{before, kept} {
			if m := mentions(t, d, c.Email); len(m) == 0 {
				t.Errorf("%s was erased", c.Email)
			}
		}
		// Without the key: refused, nothing erased.
		if err := os.Remove(filepath.Join(dir, privacy.LedgerKeyFile)); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := Reapply(ctx, d, dir, base, privacy.Declared, at(4), nil); !errors.Is(err, privacy.ErrNoLedgerKey) {
			t.Fatalf("reapply without the key: %v", err)
		}
		if m := mentions(t, d, before.Email); len(m) == 0 {
			t.Error("the refused reapply erased someone")
		}
	})
}
