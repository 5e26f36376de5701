package privacy

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// The erasure ledger remembers who was erased without remembering who
// they were: each entry holds keyed hashes (HMAC-SHA-256) of the
// subject's kind and account number and of their email address, the time,
// and the id of the key, never a name, an address or the number itself.
// A restore from a backup (internal/backup) hashes the identifiers it
// finds in the restored database under the same key and erases again
// everyone whose hash the ledger holds from after the backup.
//
// The key lives in a file of the data directory (LedgerKeyFile, 0600,
// created on the first erasure), never in the database: someone holding
// only a backup, or a dump of the database, holds the hashes but cannot
// test a guessed address against them. The ledger itself is kept twice:
// as rows of erasure_ledger, written in the erasure's transaction, and as
// lines of LedgerFile in the data directory, appended and fsynced before
// that transaction commits, so the file survives the loss of the database
// and never misses an erasure that committed (it may hold one whose
// transaction then failed; erasing such a person again on restore is what
// they asked for). See docs/backups.md.
const (
	LedgerKeyFile = "erasure-ledger.key"
	LedgerFile    = "erasure-ledger.jsonl"
)

// ErrNoLedgerKey is returned when the ledger's key file is missing.
var ErrNoLedgerKey = errors.New("the erasure ledger's key file is missing")

// LedgerEntry is one erasure as the ledger keeps it.
type LedgerEntry struct {
	At   time.Time `json:"at"`
	Kind Subject   `json:"kind"`
	// SubjectHash is the keyed hash of the kind and account number
	// ("" for a subject without one); EmailHash that of the normalised
	// email address ("" for a subject without one).
	SubjectHash string `json:"subject,omitempty"`
	EmailHash   string `json:"email,omitempty"`
	// KeyID names the key the hashes were made with (a keyed hash of a
	// fixed text): a restore with another key would match no one, and
	// says so instead.
	KeyID string `json:"key"`
}

// LedgerKey is the secret the ledger's hashes are made with.
type LedgerKey struct {
	key []byte
	// ID identifies the key without revealing it.
	ID string
}

func (k LedgerKey) mac(parts ...string) string {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte("storekeep erasure ledger"))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// SubjectHash is the keyed hash of a subject's kind and account number.
func (k LedgerKey) SubjectHash(kind Subject, id int64) string {
	if id == 0 {
		return ""
	}
	return k.mac("subject", string(kind), strconv.FormatInt(id, 10))
}

// EmailHash is the keyed hash of an email address, normalised as
// addresses are stored (trimmed, lower-cased).
func (k LedgerKey) EmailHash(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return ""
	}
	return k.mac("email", email)
}

// Entry is the ledger entry for erasing s at at.
func (k LedgerKey) Entry(s SubjectRef, at time.Time) LedgerEntry {
	// Microseconds: what PostgreSQL keeps, so the row and the line agree.
	return LedgerEntry{At: at.UTC().Truncate(time.Microsecond), Kind: s.Kind, SubjectHash: k.SubjectHash(s.Kind, s.ID), EmailHash: k.EmailHash(s.Email), KeyID: k.ID}
}

func newLedgerKey(raw []byte) LedgerKey {
	k := LedgerKey{key: raw}
	k.ID = k.mac("key id")[:16]
	return k
}

// LoadLedgerKey reads the key from the data directory dir; a missing
// file is ErrNoLedgerKey.
func LoadLedgerKey(dir string) (LedgerKey, error) {
	path := filepath.Join(dir, LedgerKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return LedgerKey{}, fmt.Errorf("%w: %s does not exist", ErrNoLedgerKey, path)
	}
	if err != nil {
		return LedgerKey{}, fmt.Errorf("read the erasure ledger's key: %w", err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != 32 {
		return LedgerKey{}, fmt.Errorf("the erasure ledger's key %s is damaged: it should hold 64 hexadecimal digits", path)
	}
	return newLedgerKey(raw), nil
}

// ledgerKeyMu keeps two erasures of one process from racing to create
// the key; between processes, os.Link decides (it fails if the key
// exists).
var ledgerKeyMu sync.Mutex

// EnsureLedgerKey reads the key from dir, creating it (32 random bytes,
// mode 0600) when there is none yet.
func EnsureLedgerKey(dir string) (LedgerKey, error) {
	ledgerKeyMu.Lock()
	defer ledgerKeyMu.Unlock()
	k, err := LoadLedgerKey(dir)
	if !errors.Is(err, ErrNoLedgerKey) {
		return k, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return LedgerKey{}, err
	}
	tmp, err := os.CreateTemp(dir, LedgerKeyFile+".new-*")
	if err != nil {
		return LedgerKey{}, fmt.Errorf("create the erasure ledger's key in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return LedgerKey{}, err
	}
	if _, err := tmp.WriteString(hex.EncodeToString(raw) + "\n"); err != nil {
		tmp.Close()
		return LedgerKey{}, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return LedgerKey{}, err
	}
	if err := tmp.Close(); err != nil {
		return LedgerKey{}, err
	}
	if err := os.Link(tmp.Name(), filepath.Join(dir, LedgerKeyFile)); err != nil && !errors.Is(err, fs.ErrExist) {
		return LedgerKey{}, fmt.Errorf("create the erasure ledger's key in %s: %w", dir, err)
	}
	if err := syncDir(dir); err != nil {
		return LedgerKey{}, err
	}
	// Another process may have won the race: use whatever is there.
	return LoadLedgerKey(dir)
}

// syncDir makes a new name in dir durable. Windows cannot sync a
// directory (and needs not: its file system records names in its journal).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// ledgerFileMu orders appends to the ledger file within a process; each
// entry is one write(2) to a file opened with O_APPEND.
var ledgerFileMu sync.Mutex

// AppendLedgerFile appends e to the ledger file in dir and fsyncs it.
func AppendLedgerFile(dir string, e LedgerEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	ledgerFileMu.Lock()
	defer ledgerFileMu.Unlock()
	path := filepath.Join(dir, LedgerFile)
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open the erasure ledger %s: %w", path, err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("append to the erasure ledger %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync the erasure ledger %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		return syncDir(dir) // the new file's name is durable too
	}
	return nil
}

// ReadLedgerFile reads the ledger file in dir; no file is no entries. A
// last line cut short (a crash during the append) is skipped; damage
// elsewhere is an error.
func ReadLedgerFile(dir string) ([]LedgerEntry, error) {
	path := filepath.Join(dir, LedgerFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the erasure ledger: %w", err)
	}
	defer f.Close()
	var out []LedgerEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 1<<20)
	n := 0
	var bad error
	for sc.Scan() {
		n++
		if bad != nil {
			return nil, bad // a damaged line that was not the last
		}
		var e LedgerEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.KeyID == "" || e.At.IsZero() {
			bad = fmt.Errorf("the erasure ledger %s is damaged at line %d", path, n)
			continue
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the erasure ledger %s: %w", path, err)
	}
	return out, nil
}

// ReadLedgerTable reads the ledger's rows from a database.
func ReadLedgerTable(ctx context.Context, q db.Querier) ([]LedgerEntry, error) {
	rows, err := q.QueryContext(ctx, `SELECT erased_at, kind, subject_hash, email_hash, key_id FROM erasure_ledger ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read the erasure ledger: %w", err)
	}
	defer rows.Close()
	var out []LedgerEntry
	for rows.Next() {
		var e LedgerEntry
		var kind string
		if err := rows.Scan(&e.At, &kind, &e.SubjectHash, &e.EmailHash, &e.KeyID); err != nil {
			return nil, err
		}
		e.Kind, e.At = Subject(kind), e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// recordErasure appends the ledger entry for erasing s, in the erasure's
// transaction tx: the row, and the line in the data directory's file
// (fsynced before the transaction commits).
func recordErasure(ctx context.Context, tx *sql.Tx, dir string, s SubjectRef, now time.Time) error {
	if dir == "" {
		return errors.New("erasure ledger: the database has no data directory for the ledger's key and file; give --data-dir")
	}
	k, err := EnsureLedgerKey(dir)
	if err != nil {
		return fmt.Errorf("erasure ledger: %w", err)
	}
	// Every instance must hash with the same key, or a restore could match
	// only some of the entries: an instance whose data directory has
	// another key than the entries already recorded refuses to erase.
	var other string
	err = tx.QueryRowContext(ctx, `SELECT key_id FROM erasure_ledger WHERE key_id <> $1 LIMIT 1`, k.ID).Scan(&other)
	switch {
	case err == nil:
		return fmt.Errorf("erasure ledger: the ledger's entries were made with key %s, but %s holds key %s: copy %s from the instance (data directory) that made them to %s, replacing this one",
			other, filepath.Join(dir, LedgerKeyFile), k.ID, LedgerKeyFile, dir)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("erasure ledger: %w", err)
	}
	e := k.Entry(s, now)
	if _, err := tx.ExecContext(ctx, `INSERT INTO erasure_ledger (erased_at, kind, subject_hash, email_hash, key_id) VALUES ($1, $2, $3, $4, $5)`,
		e.At, string(e.Kind), e.SubjectHash, e.EmailHash, e.KeyID); err != nil {
		return fmt.Errorf("erasure ledger: %w", err)
	}
	if err := AppendLedgerFile(dir, e); err != nil {
		return fmt.Errorf("erasure ledger: %w", err)
	}
	return nil
}
