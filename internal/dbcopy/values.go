package dbcopy

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// kind is what a column holds, named by the PostgreSQL type the
// migrations gave it. SQLite stores the same columns with its own few
// storage classes (booleans as 0 and 1, timestamps as the text Go's
// time.Time.String writes, internal/db/dialect.go); convert turns a value
// read from SQLite into the value PostgreSQL's column takes.
type kind byte

const (
	kindInt   kind = 'I'
	kindBool  kind = 'B'
	kindTime  kind = 'T'
	kindText  kind = 'S'
	kindBytes kind = 'X'
	kindFloat kind = 'F'
)

// kindOf maps a PostgreSQL type (format_type) to its kind. JSON columns
// are TEXT in Storekeep's schema; a json or jsonb column would be copied
// as its text (jsonb rewrites it, so its checksum would then differ).
func kindOf(pgType string) (kind, error) {
	switch pgType {
	case "bigint", "integer", "smallint":
		return kindInt, nil
	case "boolean":
		return kindBool, nil
	case "timestamp with time zone", "timestamp without time zone", "date":
		return kindTime, nil
	case "text", "json", "jsonb":
		return kindText, nil
	case "bytea":
		return kindBytes, nil
	case "double precision", "real":
		return kindFloat, nil
	}
	if strings.HasPrefix(pgType, "character") {
		return kindText, nil
	}
	return 0, fmt.Errorf("type %s is not one the copy knows how to convert", pgType)
}

// convert turns a value scanned from SQLite (modernc.org/sqlite gives
// int64, float64, string, []byte, time.Time for TIMESTAMP columns whose
// text it can parse, or nil) into the value for a PostgreSQL column of
// kind k. Timestamps keep microseconds, PostgreSQL's precision.
func convert(v any, k kind) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch k {
	case kindInt:
		switch x := v.(type) {
		case int64:
			return x, nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
				return int64(x), nil
			}
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n, nil
			}
		}
	case kindBool:
		switch x := v.(type) {
		case int64:
			if x == 0 || x == 1 {
				return x == 1, nil
			}
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "1", "t", "true":
				return true, nil
			case "0", "f", "false":
				return false, nil
			}
		}
	case kindTime:
		switch x := v.(type) {
		case time.Time:
			return x.UTC().Truncate(time.Microsecond), nil
		case string:
			t, err := ParseTime(x)
			if err != nil {
				return nil, err
			}
			return t.UTC().Truncate(time.Microsecond), nil
		case int64:
			// Seconds since 1970, as SQLite's unixepoch() writes them.
			return time.Unix(x, 0).UTC(), nil
		}
	case kindText:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			s = string(x)
		case int64:
			s = strconv.FormatInt(x, 10)
		case float64:
			s = strconv.FormatFloat(x, 'g', -1, 64)
		case time.Time:
			s = x.String()
		default:
			return nil, fmt.Errorf("cannot store %T as text", v)
		}
		if !utf8.ValidString(s) {
			return nil, errors.New("the text is not valid UTF-8, which PostgreSQL requires")
		}
		if strings.IndexByte(s, 0) >= 0 {
			return nil, errors.New("the text holds a NUL character, which PostgreSQL text cannot store")
		}
		return s, nil
	case kindBytes:
		switch x := v.(type) {
		case []byte:
			// The driver gives an empty BLOB as a nil slice, which pgx
			// would write as NULL: an empty value is not a missing one.
			if x == nil {
				return []byte{}, nil
			}
			return x, nil
		case string:
			return []byte(x), nil
		}
	case kindFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f, nil
			}
		}
	}
	return nil, fmt.Errorf("cannot convert %T %.40v to %s", v, v, k)
}

func (k kind) String() string {
	switch k {
	case kindInt:
		return "an integer"
	case kindBool:
		return "a boolean"
	case kindTime:
		return "a timestamp"
	case kindText:
		return "text"
	case kindBytes:
		return "bytes"
	case kindFloat:
		return "a number"
	}
	return "kind " + string(rune(k))
}

// timeLayouts are the texts a SQLite timestamp may be stored as: what
// Go's time.Time.String writes (Storekeep's own, through the driver), the
// layouts SQLite's date functions write and read, and RFC 3339. A text
// without a zone is UTC, as SQLite's CURRENT_TIMESTAMP is.
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseTime reads a timestamp as SQLite may hold it (see timeLayouts). The
// monotonic clock reading time.Time.String appends ("m=+0.5") is dropped.
func ParseTime(s string) (time.Time, error) {
	t := strings.TrimSpace(s)
	if i := strings.Index(t, " m="); i >= 0 {
		t = t[:i]
	}
	// A zone without a name is written twice, as offset and as its
	// "abbreviation" ("+0100 +0100"), which time.Parse does not read back.
	if f := strings.Fields(t); len(f) == 4 && f[2] == f[3] {
		t = strings.Join(f[:3], " ")
	}
	for _, l := range timeLayouts {
		if v, err := time.Parse(l, t); err == nil {
			return v, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp (want e.g. 2026-03-01 09:30:00 +0000 UTC)", shorten(s, 60))
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// rowHash hashes one row of normalised values (see appendValue) for the
// table checksums.
func rowHash(buf []byte, vals []any, kinds []kind) ([]byte, [32]byte, error) {
	buf = buf[:0]
	for i, v := range vals {
		var err error
		if buf, err = appendValue(buf, v, kinds[i]); err != nil {
			return buf, [32]byte{}, err
		}
	}
	return buf, sha256.Sum256(buf), nil
}

// appendValue writes v in the one form both databases' values of a kind
// share: NULL, or the kind's letter, a length and the canonical bytes
// (integers in decimal, timestamps as microseconds since 1970). PostgreSQL
// gives pgx's types (int32 for integer, time.Time, bool, []byte); SQLite's
// go through convert first.
func appendValue(buf []byte, v any, k kind) ([]byte, error) {
	if v == nil {
		return append(buf, 'N'), nil
	}
	var s []byte
	switch k {
	case kindInt:
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case int32:
			n = int64(x)
		case int16:
			n = int64(x)
		default:
			return buf, fmt.Errorf("checksum: %T for an integer", v)
		}
		s = strconv.AppendInt(nil, n, 10)
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return buf, fmt.Errorf("checksum: %T for a boolean", v)
		}
		s = []byte{'f'}
		if b {
			s[0] = 't'
		}
	case kindTime:
		t, ok := v.(time.Time)
		if !ok {
			return buf, fmt.Errorf("checksum: %T for a timestamp", v)
		}
		s = binary.BigEndian.AppendUint64(nil, uint64(t.UnixMicro()))
	case kindText:
		x, ok := v.(string)
		if !ok {
			return buf, fmt.Errorf("checksum: %T for text", v)
		}
		s = []byte(x)
	case kindBytes:
		x, ok := v.([]byte)
		if !ok {
			return buf, fmt.Errorf("checksum: %T for bytes", v)
		}
		s = x
	case kindFloat:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case float32:
			f = float64(x)
		default:
			return buf, fmt.Errorf("checksum: %T for a number", v)
		}
		s = strconv.AppendFloat(nil, f, 'g', -1, 64)
	}
	buf = append(buf, byte(k))
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...), nil
}

// sum is a table's checksum: the sum, lane by lane modulo 2⁶⁴, of its
// rows' SHA-256 hashes, and the number of rows. Adding makes it
// independent of the order the rows are read in, so each side reads its
// table the way that is fastest for it, and no collation or timestamp
// text order has to agree between the two.
type sum struct {
	rows  int64
	lanes [4]uint64
}

func (s *sum) add(h [32]byte) {
	s.rows++
	for i := range s.lanes {
		s.lanes[i] += binary.BigEndian.Uint64(h[i*8:])
	}
}

// String is the checksum in hex.
func (s sum) String() string {
	var b [32]byte
	for i, l := range s.lanes {
		binary.BigEndian.PutUint64(b[i*8:], l)
	}
	return hex.EncodeToString(b[:])
}
