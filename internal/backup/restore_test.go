package backup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

// fixture is a database with customers, one of them erased after a
// backup was made of it.
type fixture struct {
	path, backup string
	victim       customer
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	d := testutil.SQLite(t)
	price := seedPrice(t, d)
	var f fixture
	f.path = d.Path()
	for i := range 3 {
		f.victim = makeCustomer(t, d, i, price)
	}
	res, err := Backup(context.Background(), f.path, Options{Out: filepath.Join(t.TempDir(), "b.skbackup"), Version: "test", Now: at(1)})
	if err != nil {
		t.Fatal(err)
	}
	f.backup = res.Path
	eraseNow(t, d, f.victim, base.Add(2*time.Hour))
	d.Close()
	return f
}

// state is what a refused restore must leave as it was: the database's
// bytes and the names in its directory.
func state(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".lock") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	sum := sha256.Sum256(b)
	return string(sum[:]) + strings.Join(names, ",")
}

func edit(t *testing.T, from string, fn func([]byte) []byte) string {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "edited.skbackup")
	if err := os.WriteFile(out, fn(bytes.Clone(b)), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRestoreRefusesBadInput: each of these is refused with an error that
// says what is wrong, and the database and its directory stay as they
// were.
func TestRestoreRefusesBadInput(t *testing.T) {
	latest, err := db.LatestSchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		// prepare returns the backup to restore; it may change the
		// fixture's directory (the ledger, the lock).
		prepare func(t *testing.T, f fixture) string
		want    error
		says    string
	}{
		{"truncated", func(t *testing.T, f fixture) string {
			return edit(t, f.backup, func(b []byte) []byte { return b[:len(b)-4096] })
		}, ErrDamaged, "cut short"},
		{"truncated, and the ledger gone too", func(t *testing.T, f fixture) string {
			// The damage is what is reported, not the missing ledger.
			dir := filepath.Dir(f.path)
			for _, name := range []string{privacy.LedgerKeyFile, privacy.LedgerFile} {
				if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
			}
			return edit(t, f.backup, func(b []byte) []byte { return b[:len(b)/2] })
		}, ErrDamaged, "cut short"},
		{"truncated in the manifest", func(t *testing.T, f fixture) string {
			return edit(t, f.backup, func(b []byte) []byte { return b[:40] })
		}, ErrDamaged, "ends inside the manifest"},
		{"only the checksum missing", func(t *testing.T, f fixture) string {
			return edit(t, f.backup, func(b []byte) []byte { return b[:len(b)-trailerLen] })
		}, ErrDamaged, "cut short"},
		{"flipped byte in the database", func(t *testing.T, f fixture) string {
			return edit(t, f.backup, func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b })
		}, ErrDamaged, "checksum"},
		{"flipped byte in the manifest", func(t *testing.T, f fixture) string {
			return edit(t, f.backup, func(b []byte) []byte {
				i := bytes.Index(b, []byte(`"size":`)) + len(`"size":`)
				b[i] ^= 0x01 // another digit: still valid JSON
				return b
			})
		}, ErrDamaged, ""},
		{"not a backup", func(t *testing.T, f fixture) string {
			return f.path // the SQLite file itself
		}, ErrNotBackup, "does not start with"},
		{"newer schema", func(t *testing.T, f fixture) string {
			return rewrite(t, f.backup, func(m *Manifest) { m.Schema = latest + 1 })
		}, ErrNewerSchema, "restore it with that version or a later one"},
		{"running instance", func(t *testing.T, f fixture) string {
			release, err := HoldInstance(f.path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(release)
			return f.backup
		}, ErrInUse, "stop it"},
		{"missing ledger key", func(t *testing.T, f fixture) string {
			if err := os.Remove(filepath.Join(filepath.Dir(f.path), privacy.LedgerKeyFile)); err != nil {
				t.Fatal(err)
			}
			return f.backup
		}, privacy.ErrNoLedgerKey, "put the key file"},
		{"another ledger key", func(t *testing.T, f fixture) string {
			dir := filepath.Dir(f.path)
			if err := os.Remove(filepath.Join(dir, privacy.LedgerKeyFile)); err != nil {
				t.Fatal(err)
			}
			if _, err := privacy.EnsureLedgerKey(dir); err != nil {
				t.Fatal(err)
			}
			return f.backup
		}, nil, "made with another key"},
		{"another installation's backup", func(t *testing.T, f fixture) string {
			return rewrite(t, f.backup, func(m *Manifest) { m.LedgerKeyID = "00000000000000ff" })
		}, nil, "another installation's backup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			from := tc.prepare(t, f)
			before := state(t, f.path)
			_, err := Restore(context.Background(), RestoreOptions{From: from, DB: f.path, Now: at(3)})
			if err == nil {
				t.Fatal("restored")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
			if tc.name != "running instance" && !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("error %q does not say that nothing changed", err)
			}
			if state(t, f.path) != before {
				t.Error("the refused restore changed the database or its directory")
			}
		})
	}
}

// rewrite makes a backup of from's database with a changed manifest and
// a correct checksum.
func rewrite(t *testing.T, from string, change func(*Manifest)) string {
	t.Helper()
	f, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	m, _, err := ReadHeader(br)
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, m.Size)
	if _, err := io.ReadFull(br, payload); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyPath := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(copyPath, payload, 0o600); err != nil {
		t.Fatal(err)
	}
	change(&m)
	out := filepath.Join(dir, "changed.skbackup")
	if err := writeBackup(out, copyPath, m, nil); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRestoreWithoutAnyLedger: a directory with neither ledger nor key is
// refused unless the operator says no erasure was ever made.
func TestRestoreWithoutAnyLedger(t *testing.T) {
	d := testutil.SQLite(t)
	price := seedPrice(t, d)
	gone, later := makeCustomer(t, d, 1, price), makeCustomer(t, d, 2, price)
	eraseNow(t, d, gone, base) // the backup holds a ledger entry under the lost key
	res, err := Backup(context.Background(), d.Path(), Options{Out: filepath.Join(t.TempDir(), "b.skbackup"), Now: at(1)})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	target := filepath.Join(t.TempDir(), "new.db")
	if _, err := Restore(context.Background(), RestoreOptions{From: res.Path, DB: target}); !errors.Is(err, ErrNoLedger) {
		t.Fatalf("restore without a ledger: %v", err)
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("the refused restore wrote the database")
	}
	if _, err := Restore(context.Background(), RestoreOptions{From: res.Path, DB: target, WithoutLedger: true}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	var n int
	if err := got.QueryRowContext(context.Background(), `SELECT count(*) FROM prices`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("restored prices: %d, %v", n, err)
	}
	// Erasure works on the restored database, under a new key.
	eraseNow(t, got, later, base.Add(4*time.Hour))
	if m := mentions(t, got, later.Email); len(m) != 0 {
		t.Errorf("%s after erasure: %v", later.Email, m)
	}
}

// TestRestoreMigratesAnOlderBackup: a backup taken before the latest
// migration is brought up to date before it is put in place.
func TestRestoreMigratesAnOlderBackup(t *testing.T) {
	ctx := context.Background()
	// The database as the migration before the latest left it.
	latest, _ := db.LatestSchemaVersion()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "older.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.MigrateTo(ctx, latest-1); err != nil {
		t.Fatal(err)
	}
	seedPrice(t, d)
	res, err := Backup(ctx, d.Path(), Options{Out: filepath.Join(t.TempDir(), "b.skbackup"), Now: at(1)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Schema != latest-1 {
		t.Fatalf("manifest schema %d, want %d", res.Manifest.Schema, latest-1)
	}
	d.Close()
	r, err := Restore(ctx, RestoreOptions{From: res.Path, DB: d.Path(), WithoutLedger: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Migrated) != 1 || r.Migrated[0].Version != latest {
		t.Fatalf("migrated %v", r.Migrated)
	}
	got, err := db.Open(ctx, d.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if v, _, err := got.SchemaVersion(ctx); err != nil || v != latest {
		t.Fatalf("restored schema %d, %v", v, err)
	}
}

// TestRestoreInstanceLock: an instance cannot start while a restore runs, and
// several instances may run together.
func TestRestoreInstanceLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	a, err := HoldInstance(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := HoldInstance(path)
	if err != nil {
		t.Fatalf("a second instance: %v", err)
	}
	if _, err := lockExclusive(path); !errors.Is(err, ErrInUse) {
		t.Fatalf("restore while instances run: %v", err)
	}
	a()
	b()
	release, err := lockExclusive(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := HoldInstance(path); !errors.Is(err, ErrRestoring) {
		t.Fatalf("an instance during a restore: %v", err)
	}
	release()
}

// TestBackupPruneKeepsTheRetention: --prune deletes the backups taken
// before the retention and nothing else in the directory.
func TestBackupPruneKeepsTheRetention(t *testing.T) {
	d := testutil.SQLite(t)
	out := t.TempDir()
	var made []string
	for _, h := range []int{0, 24 * 89, 24 * 91} { // taken 91, 2 and 0 days before "now"
		res, err := Backup(context.Background(), d.Path(), Options{Out: out, Now: at(h)})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, res.Path)
	}
	other := filepath.Join(out, "notes"+Ext)
	if err := os.WriteFile(other, []byte("not a backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := base.Add(24 * 91 * time.Hour)
	removed, err := Prune(out, time.Duration(privacy.BackupRetention.Days)*24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != made[0] {
		t.Fatalf("pruned %v, want %v", removed, made[:1])
	}
	for _, p := range append(made[1:], other) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
