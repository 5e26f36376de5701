package privacy_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestLedgerRecordsEveryErasure: an erasure appends one entry to the
// table and to the file, in keyed hashes only; the key is a 0600 file in
// the data directory, not in the database; a dry run records nothing.
func TestLedgerRecordsEveryErasure(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		p := makePerson(t, d, 7, seedPrice(t, d))
		dir := d.DataDir()
		if _, err := privacy.Erase(ctx, d, privacy.Declared, privacy.EraseRequest{Subject: refOf(p), DryRun: true}, nil, t0); err != nil {
			t.Fatal(err)
		}
		if got, _ := privacy.ReadLedgerTable(ctx, d); len(got) != 0 {
			t.Fatalf("a dry run recorded %v", got)
		}
		erase(t, d, refOf(p), nil)

		st, err := os.Stat(filepath.Join(dir, privacy.LedgerKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
		}
		key, err := privacy.LoadLedgerKey(dir)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := privacy.ReadLedgerTable(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		file, err := privacy.ReadLedgerFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := key.Entry(refOf(p), t0)
		for _, got := range [][]privacy.LedgerEntry{rows, file} {
			if len(got) != 1 || got[0] != want {
				t.Fatalf("ledger %v, want [%v]", got, want)
			}
		}
		if want.SubjectHash == "" || want.EmailHash == "" || want.EmailHash != key.EmailHash("  "+strings.ToUpper(p.Email)) {
			t.Errorf("hashes %+v do not cover the account and the normalised address", want)
		}
		raw, _ := os.ReadFile(filepath.Join(dir, privacy.LedgerFile))
		keyText, _ := os.ReadFile(filepath.Join(dir, privacy.LedgerKeyFile))
		if bytes.Contains(bytes.ToLower(raw), []byte(p.Email)) || bytes.Contains(raw, []byte(p.Name)) {
			t.Errorf("the ledger file holds personal data: %s", raw)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM erasure_ledger WHERE subject_hash LIKE $1 OR email_hash LIKE $1 OR key_id LIKE $1`,
			"%"+strings.TrimSpace(string(keyText))[:16]+"%").Scan(&n); err != nil || n != 0 {
			t.Errorf("the key is in the database (%d rows, %v)", n, err)
		}
		// Another key gives other hashes: without the key, the hashes
		// cannot be tested against a guessed address.
		other := t.TempDir()
		k2, err := privacy.EnsureLedgerKey(other)
		if err != nil {
			t.Fatal(err)
		}
		if k2.EmailHash(p.Email) == want.EmailHash || k2.ID == key.ID {
			t.Error("two keys give the same hash")
		}
	})
}

// TestLedgerFailureUndoesTheErasure: without a place for the ledger the
// erasure is refused and nothing changes.
func TestLedgerFailureUndoesTheErasure(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		p := makePerson(t, d, 8, seedPrice(t, d))
		before := exportOf(t, d, p).Rows()
		missing := filepath.Join(t.TempDir(), "gone")
		d.SetDataDir(missing)
		_, err := privacy.Erase(ctx, d, privacy.Declared, privacy.EraseRequest{Subject: refOf(p), By: audit.Entry{ActorType: audit.ActorSystem}}, nil, t0)
		if err == nil || !strings.Contains(err.Error(), "erasure ledger") {
			t.Fatalf("erasure without a ledger directory: %v", err)
		}
		if got := exportOf(t, d, p).Rows(); got != before {
			t.Fatalf("the refused erasure changed %d -> %d rows", before, got)
		}
		if _, err := privacy.LoadLedgerKey(missing); !errors.Is(err, privacy.ErrNoLedgerKey) {
			t.Fatalf("LoadLedgerKey: %v", err)
		}
	})
}

// TestBackupsInTheRecords: the records of processing list the backups
// with their retention, and name them in each activity's retention.
func TestBackupsInTheRecords(t *testing.T) {
	rec := privacy.BuildRecords(privacy.Declared, nil, settings.Defaults(), privacy.Deployment{}, t0)
	if len(rec.Stores) != 1 || rec.Stores[0].Name != "Backups" || !strings.Contains(rec.Stores[0].Retention, "90 days") {
		t.Fatalf("stores %+v", rec.Stores)
	}
	for _, a := range rec.Activities {
		found := false
		for _, r := range a.Retention {
			found = found || strings.HasPrefix(r, "Backups: copies of the above") && strings.Contains(r, "90 days")
		}
		if !found {
			t.Errorf("activity %s does not name the backups' retention: %v", a.Purpose, a.Retention)
		}
	}
	var csv bytes.Buffer
	if err := rec.WriteCSV(&csv); err != nil || !strings.Contains(csv.String(), "copies,Backups,") {
		t.Errorf("CSV: %v\n%s", err, csv.String())
	}
}

// TestLedgerRefusesASecondKey: an instance whose data directory holds
// another key than the ledger's entries (a second instance on the same
// PostgreSQL database, not given the first one's key) refuses to erase,
// and says which key to copy.
func TestLedgerRefusesASecondKey(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		price := seedPrice(t, d)
		a, b := makePerson(t, d, 11, price), makePerson(t, d, 12, price)
		erase(t, d, refOf(a), nil)
		d.SetDataDir(t.TempDir()) // the second instance's data directory
		before := exportOf(t, d, b).Rows()
		_, err := privacy.Erase(ctx, d, privacy.Declared, privacy.EraseRequest{Subject: refOf(b), By: audit.Entry{ActorType: audit.ActorSystem}}, nil, t0)
		if err == nil || !strings.Contains(err.Error(), "copy "+privacy.LedgerKeyFile) {
			t.Fatalf("erasure under a second key: %v", err)
		}
		if got := exportOf(t, d, b).Rows(); got != before {
			t.Fatalf("the refused erasure changed %d -> %d rows", before, got)
		}
	})
}
