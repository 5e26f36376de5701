package backup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
)

// RestoreOptions say how to restore.
type RestoreOptions struct {
	// From is the backup file; DB the SQLite database file to replace (it
	// need not exist). The erasure ledger and its key are looked for in
	// the directory of DB, where the erasures wrote them.
	From, DB string
	// WithoutLedger restores although no erasure ledger and no key exist
	// beside DB (a new machine whose data directory was lost with the
	// old one): erasures made after the backup cannot be re-applied then.
	WithoutLedger bool
	// Now is the clock (time.Now when nil); Inventory the data inventory
	// (privacy.Declared when empty).
	Now       func() time.Time
	Inventory *privacy.Inventory
	// Log receives progress and the summary; nil discards them.
	Log io.Writer
}

// RestoreResult says what a restore did.
type RestoreResult struct {
	Manifest Manifest
	// Migrated are the migrations applied to bring the copy up to date.
	Migrated []db.Migration
	// Ledger is how many ledger entries were read (file and database,
	// without duplicates), Since how many of them date from the backup
	// or later, Erased the subjects erased again in the restored copy.
	Ledger, Since int
	Erased        []privacy.SubjectRef
	// Aside is where the database the restore replaced was moved ("" when
	// there was none).
	Aside string
}

// ErrNewerSchema is a backup made by a newer Storekeep.
var ErrNewerSchema = errors.New("the backup comes from a newer version of Storekeep")

// ErrNoLedger is a restore without an erasure ledger or its key.
var ErrNoLedger = errors.New("no erasure ledger")

// Restore replaces the SQLite database at o.DB with the backup o.From,
// and never brings an erased person back. It refuses, changing nothing: a
// file that is not a backup, is cut short or damaged (checksum); a backup
// of a newer schema than this binary knows; a database a running instance
// uses (the instance lock); and a ledger whose key is missing or another.
// Otherwise it writes the copy beside the database, migrates it when the
// backup is older, erases again in it every subject the ledger recorded
// from the start of the backup on (matched by keyed hash, erased by
// privacy.Erase, so the same rules and legal holds apply), checkpoints
// and fsyncs it, moves the old database aside and renames the copy into
// place.
func Restore(ctx context.Context, o RestoreOptions) (RestoreResult, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	inv := privacy.Declared
	if o.Inventory != nil {
		inv = *o.Inventory
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	var res RestoreResult
	f, err := os.Open(o.From)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	m, head, err := ReadHeader(br)
	if err != nil {
		return res, fmt.Errorf("restore: %s: %w; nothing was changed", o.From, err)
	}
	res.Manifest = m
	// A file shorter than its manifest says is refused as damaged now,
	// before any other check could send the operator looking elsewhere
	// (the checksum over everything is verified while the copy is read).
	if st, err := f.Stat(); err == nil && st.Size() < int64(len(head))+m.Size+int64(trailerLen) {
		return res, fmt.Errorf("restore: %s: %w: the file is cut short, it has %d bytes and its manifest announces %d; nothing was changed",
			o.From, ErrDamaged, st.Size(), int64(len(head))+m.Size+int64(trailerLen))
	}
	latest, err := db.LatestSchemaVersion()
	if err != nil {
		return res, err
	}
	if m.Schema > latest {
		return res, fmt.Errorf("restore: %w (schema version %d, Storekeep %s; this binary knows up to %d): restore it with that version or a later one; nothing was changed",
			ErrNewerSchema, m.Schema, m.Storekeep, latest)
	}
	fmt.Fprintf(logw, "backup of %s (schema %d, Storekeep %s), %d bytes\n", m.StartedAt.Format(time.RFC3339), m.Schema, m.Storekeep, m.Size)

	release, err := lockExclusive(o.DB)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	defer release()

	dir := filepath.Dir(o.DB)
	entries, key, err := loadLedger(ctx, o.DB, o.WithoutLedger)
	if err != nil {
		return res, fmt.Errorf("restore: %w; nothing was changed", err)
	}
	if m.LedgerKeyID != "" && key.ID != "" && m.LedgerKeyID != key.ID {
		return res, fmt.Errorf("restore: the backup was made where the erasure ledger's key was %s, and the key in %s is %s: this is another installation's backup, or the key was replaced; put back the key the backup's installation used; nothing was changed",
			m.LedgerKeyID, dir, key.ID)
	}
	res.Ledger = len(entries)
	var since []privacy.LedgerEntry
	for _, e := range entries {
		if !e.At.Before(m.StartedAt) {
			since = append(since, e)
		}
	}
	res.Since = len(since)

	tmp := filepath.Join(dir, "."+filepath.Base(o.DB)+".restore-"+randomSuffix())
	cleanup := func() {
		for _, s := range []string{"", "-wal", "-shm", "-journal"} {
			os.Remove(tmp + s)
		}
	}
	defer cleanup()
	if err := readPayload(br, head, m, tmp, logw); err != nil {
		return res, fmt.Errorf("restore: %s: %w; nothing was changed", o.From, err)
	}

	d, err := db.Open(ctx, tmp)
	if err != nil {
		return res, fmt.Errorf("restore: open the restored copy: %w; nothing was changed", err)
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
	}()
	d.SetDataDir(dir) // the ledger of the database being replaced
	if res.Migrated, err = d.Migrate(ctx); err != nil {
		return res, fmt.Errorf("restore: migrate the restored copy: %w; nothing was changed", err)
	}
	for _, mg := range res.Migrated {
		fmt.Fprintf(logw, "applied migration %05d %s\n", mg.Version, mg.Name)
	}
	if key.ID == "" {
		// Restoring --without-ledger: entries the copy holds were made with
		// a key that is not here, so they can never be matched, and a new
		// key's first erasure would refuse to write beside them.
		r, err := d.Writer().ExecContext(ctx, `DELETE FROM erasure_ledger`)
		if err != nil {
			return res, fmt.Errorf("restore: %w; nothing was changed", err)
		}
		if n, _ := r.RowsAffected(); n > 0 {
			fmt.Fprintf(logw, "erasure ledger: removed %d entries of the copy made with a key that is not here (they cannot be matched without it)\n", n)
		}
	}
	if res.Erased, err = reapply(ctx, d, inv, key, since, "restore from backup of "+m.StartedAt.Format(time.RFC3339), now, logw); err != nil {
		return res, fmt.Errorf("restore: %w; nothing was changed", err)
	}
	if _, err := d.Writer().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return res, fmt.Errorf("restore: checkpoint: %w; nothing was changed", err)
	}
	closed = true
	if err := d.Close(); err != nil {
		return res, fmt.Errorf("restore: close the restored copy: %w; nothing was changed", err)
	}
	if st, err := os.Stat(o.DB); err == nil {
		_ = os.Chmod(tmp, st.Mode().Perm()) // the replaced file's permissions
	}
	if err := syncFile(tmp); err != nil {
		return res, fmt.Errorf("restore: %w; nothing was changed", err)
	}
	if res.Aside, err = replace(o.DB, tmp, now()); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	return res, nil
}

// loadLedger reads the ledger file beside dbPath and, when the database
// there opens, its erasure_ledger rows, without duplicates, and the key.
func loadLedger(ctx context.Context, dbPath string, without bool) ([]privacy.LedgerEntry, privacy.LedgerKey, error) {
	dir := filepath.Dir(dbPath)
	entries, err := privacy.ReadLedgerFile(dir)
	if err != nil {
		return nil, privacy.LedgerKey{}, err
	}
	if _, err := os.Stat(dbPath); err == nil {
		// The current database, if it still opens, may hold entries the
		// file lost (a file restored from an older copy).
		if cur, err := db.Open(ctx, dbPath); err == nil {
			if rows, err := privacy.ReadLedgerTable(ctx, cur); err == nil {
				seen := map[privacy.LedgerEntry]bool{}
				for _, e := range entries {
					seen[e] = true
				}
				for _, e := range rows {
					if !seen[e] {
						seen[e] = true
						entries = append(entries, e)
					}
				}
			}
			cur.Close()
		}
	}
	key, err := privacy.LoadLedgerKey(dir)
	switch {
	case errors.Is(err, privacy.ErrNoLedgerKey) && len(entries) > 0:
		return nil, key, fmt.Errorf("%w: the erasure ledger holds %d erasures, but they cannot be matched without the key; put the key file %s back (from where you keep it, apart from the backups)",
			err, len(entries), filepath.Join(dir, privacy.LedgerKeyFile))
	case errors.Is(err, privacy.ErrNoLedgerKey) && !without:
		return nil, key, fmt.Errorf("%w in %s (neither %s nor %s): erasures made since the backup could not be re-applied; put both files back in %s, or, if no erasure was ever made, restore with --without-ledger",
			ErrNoLedger, dir, privacy.LedgerFile, privacy.LedgerKeyFile, dir)
	case errors.Is(err, privacy.ErrNoLedgerKey):
		return nil, key, nil
	case err != nil:
		return nil, key, err
	}
	for _, e := range entries {
		if e.KeyID != key.ID {
			return nil, key, fmt.Errorf("the erasure ledger holds entries made with another key (%s, not %s): put back the key file %s those erasures were made with",
				e.KeyID, key.ID, filepath.Join(dir, privacy.LedgerKeyFile))
		}
	}
	return entries, key, nil
}

// readPayload copies the database out of the backup into path, checking
// the length and the checksum; on any failure path is removed.
func readPayload(r *bufio.Reader, head []byte, m Manifest, path string, logw io.Writer) (err error) {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	h := sha256.New()
	h.Write(head)
	var w io.Writer = io.MultiWriter(out, h)
	if logw != io.Discard {
		bar := newBar(logw, "read ", m.Size)
		w = io.MultiWriter(w, bar)
		defer bar.Finish()
	}
	n, err := io.CopyN(w, r, m.Size)
	if err != nil {
		return fmt.Errorf("%w: the file is cut short, it ends after %d of the %d bytes of the database (%v)", ErrDamaged, n, m.Size, err)
	}
	tail := make([]byte, trailerLen+1)
	k, _ := io.ReadFull(r, tail)
	if k != trailerLen || !bytes.Equal(tail[:k], trailer(h.Sum(nil))) {
		if k < trailerLen {
			return fmt.Errorf("%w: the file is cut short (no checksum at the end)", ErrDamaged)
		}
		return fmt.Errorf("%w: its checksum does not match what it holds", ErrDamaged)
	}
	return out.Sync()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// replace moves the database at dbPath (and its WAL) aside, if there is
// one, and renames tmp into its place: the old file's WAL must not meet
// the new file.
func replace(dbPath, tmp string, now time.Time) (aside string, err error) {
	dir := filepath.Dir(dbPath)
	if _, err := os.Stat(dbPath); err == nil {
		aside = dbPath + ".before-restore-" + now.UTC().Format("20060102T150405Z")
		if err := os.Link(dbPath, aside); err != nil {
			return "", fmt.Errorf("keep the current database as %s: %w; nothing was changed", aside, err)
		}
		for _, s := range []string{"-wal", "-shm"} {
			if err := os.Rename(dbPath+s, aside+s); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return aside, fmt.Errorf("move %s aside: %w; the current database is unchanged, its copy is %s", dbPath+s, err, aside)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return aside, fmt.Errorf("put the restored database in place: %w", err)
	}
	return aside, syncDir(dir)
}

// reapply erases again in d the subjects the entries name, with
// privacy.Erase (no processor is asked: they were when the erasure was
// first made).
func reapply(ctx context.Context, d *db.DB, inv privacy.Inventory, key privacy.LedgerKey, entries []privacy.LedgerEntry, why string, now func() time.Time, logw io.Writer) ([]privacy.SubjectRef, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	refs, err := privacy.LedgerSubjects(ctx, d, inv, key, entries)
	if err != nil {
		return nil, fmt.Errorf("match the erasure ledger: %w", err)
	}
	fmt.Fprintf(logw, "erasure ledger: %d erasures since the backup, %d subjects in the copy to erase again\n", len(entries), len(refs))
	var done []privacy.SubjectRef
	for i, ref := range refs {
		if _, err := privacy.Erase(ctx, d, inv, privacy.EraseRequest{Subject: ref,
			By: audit.Entry{ActorType: audit.ActorSystem, Detail: why}}, nil, now()); err != nil {
			return done, fmt.Errorf("erase again: %w", err)
		}
		fmt.Fprintf(logw, "erased again %d/%d (%s)\n", i+1, len(refs), ref.Kind)
		done = append(done, ref)
	}
	return done, nil
}

// Reapply erases again, in the database d restored by other means
// (pg_restore, point-in-time recovery), everyone the erasure ledger
// recorded at or after since: the entries of the ledger file in dir (the
// data directory) and of d's own erasure_ledger rows, matched with the key
// in dir. It refuses, changing nothing, when the key is missing or another
// than the entries'. It returns how many entries it read, how many are
// from since on, and whom it erased.
func Reapply(ctx context.Context, d *db.DB, dir string, since time.Time, inv privacy.Inventory, now func() time.Time, logw io.Writer) (read, after int, erased []privacy.SubjectRef, err error) {
	if now == nil {
		now = time.Now
	}
	if logw == nil {
		logw = io.Discard
	}
	entries, err := privacy.ReadLedgerFile(dir)
	if err != nil {
		return 0, 0, nil, err
	}
	rows, err := privacy.ReadLedgerTable(ctx, d)
	if err != nil {
		return 0, 0, nil, err
	}
	seen := map[privacy.LedgerEntry]bool{}
	for _, e := range entries {
		seen[e] = true
	}
	for _, e := range rows {
		if !seen[e] {
			seen[e] = true
			entries = append(entries, e)
		}
	}
	key, err := privacy.LoadLedgerKey(dir)
	if err != nil {
		if len(entries) == 0 {
			return 0, 0, nil, nil
		}
		return len(entries), 0, nil, fmt.Errorf("%w: the erasure ledger holds %d erasures; put the key file back in %s", err, len(entries), dir)
	}
	var todo []privacy.LedgerEntry
	for _, e := range entries {
		if e.KeyID != key.ID {
			return len(entries), 0, nil, fmt.Errorf("the erasure ledger holds entries made with another key (%s, not %s): put back the key file those erasures were made with", e.KeyID, key.ID)
		}
		if !e.At.Before(since) {
			todo = append(todo, e)
		}
	}
	erased, err = reapply(ctx, d, inv, key, todo, "erasures re-applied after a restore to "+since.UTC().Format(time.RFC3339), now, logw)
	return len(entries), len(todo), erased, err
}
