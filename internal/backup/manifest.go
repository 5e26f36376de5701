// Package backup makes and restores backups of a SQLite Storekeep
// database, and restores never bring an erased person back: after the
// copy is in place, every erasure the erasure ledger (privacy, ledger.go)
// recorded since the backup was taken is done again. PostgreSQL is backed
// up with its own tools (docs/backups.md); CheckPostgres checks them.
//
// A backup file is one stream:
//
//	STOREKEEP-BACKUP 1\n          the magic line
//	{"format":1,...}\n            the manifest, one line of JSON
//	<Size bytes>                  the SQLite database, as VACUUM INTO wrote it
//	sha256 <64 hex digits>\n      the SHA-256 of everything before this line
//
// The checksum at the end covers the magic, the manifest and the
// database, so a flipped byte anywhere or a file cut short is refused
// before anything is changed.
package backup

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Magic is the first line of every backup file.
const Magic = "STOREKEEP-BACKUP 1\n"

// Format is the version of the file layout this package writes and reads.
const Format = 1

// maxManifest bounds the manifest line, so a damaged file cannot make a
// reader allocate without limit.
const maxManifest = 16 << 10

// Manifest describes a backup.
type Manifest struct {
	Format int `json:"format"`
	// Storekeep is the version of the binary that made it.
	Storekeep string `json:"storekeep_version"`
	// Schema is the database's migration version (goose) in the copy.
	Schema int64 `json:"schema_version"`
	// StartedAt is when the copy began: everything committed before is in
	// it. A restore re-applies every erasure recorded from then on.
	StartedAt time.Time `json:"started_at"`
	// TakenAt is when the copy was complete.
	TakenAt time.Time `json:"taken_at"`
	Dialect string    `json:"dialect"`
	// Size is the length of the database that follows.
	Size int64 `json:"size"`
	// LedgerKeyID names the erasure ledger's key of the installation
	// ("" when it had made no erasure yet), so a restore can tell a key
	// that does not belong to the backup.
	LedgerKeyID string `json:"ledger_key_id,omitempty"`
}

// ErrNotBackup is a file that does not begin as a backup does.
var ErrNotBackup = errors.New("not a Storekeep backup")

// ErrDamaged is a backup that is cut short or whose checksum does not
// match.
var ErrDamaged = errors.New("the backup is damaged")

func (m Manifest) check() error {
	switch {
	case m.Format != Format:
		return fmt.Errorf("%w: format %d, this version of Storekeep reads format %d", ErrNotBackup, m.Format, Format)
	case m.Dialect != "sqlite":
		return fmt.Errorf("%w: dialect %q, only SQLite backups are restored by storekeep restore", ErrNotBackup, m.Dialect)
	case m.Schema < 1:
		return fmt.Errorf("%w: schema version %d", ErrDamaged, m.Schema)
	case m.Size < 512:
		return fmt.Errorf("%w: a database of %d bytes", ErrDamaged, m.Size)
	case m.StartedAt.IsZero() || m.TakenAt.Before(m.StartedAt):
		return fmt.Errorf("%w: taken at %s, started at %s", ErrDamaged, m.TakenAt, m.StartedAt)
	}
	return nil
}

// header is the magic line and the manifest line.
func (m Manifest) header() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	js, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return append(append([]byte(Magic), js...), '\n'), nil
}

// ReadHeader reads the magic line and the manifest from r, and checks
// that the manifest is whole and plausible. It does not read the
// database: the checksum is verified once the whole file has been read
// (readPayload).
func ReadHeader(r *bufio.Reader) (Manifest, []byte, error) {
	magic := make([]byte, len(Magic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != Magic {
		return Manifest{}, nil, fmt.Errorf("%w: it does not start with %q", ErrNotBackup, Magic[:len(Magic)-1])
	}
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxManifest {
			return Manifest{}, nil, fmt.Errorf("%w: the manifest is longer than %d bytes", ErrDamaged, maxManifest)
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return Manifest{}, nil, fmt.Errorf("%w: the file ends inside the manifest", ErrDamaged)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, nil, fmt.Errorf("%w: the manifest cannot be read (%v)", ErrDamaged, err)
	}
	if dec.More() {
		return Manifest{}, nil, fmt.Errorf("%w: the manifest line holds more than one value", ErrDamaged)
	}
	m.StartedAt, m.TakenAt = m.StartedAt.UTC(), m.TakenAt.UTC()
	if err := m.check(); err != nil {
		return Manifest{}, nil, err
	}
	return m, append([]byte(Magic), line...), nil
}

// trailer is the last line of a backup: the checksum of what precedes.
func trailer(sum []byte) []byte {
	return []byte("sha256 " + hex.EncodeToString(sum) + "\n")
}

// trailerLen is the length of the trailer line.
var trailerLen = len(trailer(make([]byte, 32)))
