package licensing

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/refuse"
)

// FileLifetime is how long a license file is good for before the product
// fetches a new one (shorter for a term ending sooner, or a license whose
// machines must check in).
const FileLifetime = 90 * 24 * time.Hour

// seenEvery is how often Validate records that a machine was seen: at most
// one write per machine in that time keeps validation a read.
const seenEvery = time.Hour

// MaxFingerprint is the longest machine fingerprint accepted.
const MaxFingerprint = 512

// The functions below answer the license API. Each runs its own
// transaction. A license's state (VALID, SUSPENDED, TOO_MANY_MACHINES ...)
// is the Result's Code; the error is a refuse.Error for input no product
// sends (an empty or over-long fingerprint, control characters in a host
// name: the API's BAD_REQUEST) or a failure of ours.

// keyHead is how MakeKey's payloads of this format version start.
var keyHead = `{"v":` + strconv.Itoa(FormatVersion) + `,"kid":"`

// peekLicense returns the license id a key names, read without
// verifying the key and without a JSON parser: the "lic" member of the
// payload's start as MakeKey writes it (format version first, then kid and
// lic), or "" when the key does not start so. It only finds the row whose
// stored key the key is compared with (issuedKey), so a key it misreads
// costs a lookup and takes the full check, never a wrong answer.
func peekLicense(key string) string {
	if !strings.HasPrefix(key, keyPrefix+".") {
		return ""
	}
	payload := key[len(keyPrefix)+1:]
	// {"v":1,"kid":"<16 hex>","lic":"lic_<26>", is 62 bytes: 84 base64
	// characters hold it, and 96 leave room.
	if len(payload) > 96 {
		payload = payload[:96]
	}
	var buf [72]byte
	n, err := b64.Decode(buf[:], []byte(payload))
	if err != nil {
		return ""
	}
	head, ok := strings.CutPrefix(string(buf[:n]), keyHead)
	if !ok {
		return ""
	}
	_, rest, ok := strings.Cut(head, `","lic":"`)
	if !ok {
		return ""
	}
	lic, _, ok := strings.Cut(rest, `"`)
	if !ok {
		return ""
	}
	return lic
}

// issuedKey reports whether key is exactly the key stored with l, signed
// by a key id still loaded. Such a key verifies: we signed it when we
// issued the license (issue stores the key it made, and it is never
// re-signed), so checking its signature again would only repeat our own
// work, and it is a quarter of a validation's time (docs/benchmarks.md,
// "License API"). What the answer says comes from the row either way. The
// comparison takes the same time wherever the keys differ: a key is a
// bearer credential, and the one compared with is the stored one. A kid
// no longer in the keyring takes the full check and its answer,
// UNKNOWN_KEY_ID.
func issuedKey(keys PublicKeys, l License, key string) bool {
	if l.Key == "" || len(l.Key) != len(key) || subtle.ConstantTimeCompare([]byte(l.Key), []byte(key)) != 1 {
		return false
	}
	_, ok := keys.PublicKey(l.KID)
	return ok
}

// parse turns a key into its payload, or the Result refusing it.
func parse(keys PublicKeys, key string) (Payload, *Result) {
	p, err := ParseKey(keys, key)
	var fe *FormatError
	if errors.As(err, &fe) {
		r := result(fe.Code, nil, nil)
		return p, &r
	}
	if err != nil {
		r := result(CodeInvalidKey, nil, nil)
		return p, &r
	}
	return p, nil
}

func fingerprintHash(fp string, required bool) (string, error) {
	if fp == "" && !required {
		return "", nil
	}
	if fp == "" {
		return "", refuse.Field("fingerprint", "The machine fingerprint is missing.")
	}
	if len(fp) > MaxFingerprint {
		return "", refuse.Field("fingerprint", fmt.Sprintf("The machine fingerprint is longer than %d bytes.", MaxFingerprint))
	}
	return FingerprintHash(fp), nil
}

// Validate answers whether the key is good at now for the scopes of c:
// INVALID_KEY or UNKNOWN_KEY_ID (not a key of ours), NOT_FOUND, then in
// this order WRONG_PRODUCT, REVOKED, SUSPENDED, EXPIRED,
// ENTITLEMENTS_MISSING, and with a fingerprint NOT_ACTIVATED (the machine
// holds no seat; one is free) or FINGERPRINT_SCOPE_MISMATCH (it holds
// none and every seat is taken), else IN_GRACE or VALID. It changes nothing
// but, at most hourly, the time a machine was last seen.
func Validate(ctx context.Context, d *db.DB, keys PublicKeys, c Check, now time.Time) (Result, error) {
	now = now.UTC() // times are compared in SQL: one zone
	fp, err := fingerprintHash(c.Fingerprint, false)
	if err != nil {
		return Result{}, err
	}
	version, err := CheckVersion(c.Version)
	if err != nil {
		return Result{}, err
	}
	// The license the key names, read before the key is verified: when the
	// key is, byte for byte, the one stored with that license (the key we
	// signed when we issued it), its signature needs no check (see
	// issuedKey). Any other key is verified as ParseKey says, with the
	// same answers as ever.
	lic := peekLicense(c.Key)
	var l License
	var lerr error = ErrNotFound
	if lic != "" {
		l, lerr = ByLicenseID(ctx, d, lic, now)
		if lerr != nil && !errors.Is(lerr, ErrNotFound) {
			return Result{}, fmt.Errorf("validate license: %w", lerr)
		}
	}
	if lerr != nil || !issuedKey(keys, l, c.Key) {
		p, refused := parse(keys, c.Key)
		if refused != nil {
			return *refused, nil
		}
		if p.License != lic {
			l, lerr = ByLicenseID(ctx, d, p.License, now)
		}
		if errors.Is(lerr, ErrNotFound) {
			return result(CodeNotFound, nil, nil), nil
		}
		if lerr != nil {
			return Result{}, fmt.Errorf("validate license: %w", lerr)
		}
	}
	if c.Product != "" && c.Product != l.Product {
		return result(CodeWrongProduct, &l, nil), nil
	}
	if !stateCode(l.State).OK() {
		return result(stateCode(l.State), &l, nil), nil
	}
	for _, e := range c.Entitlements {
		if !slices.Contains(l.Entitlements, e) {
			return result(CodeEntitlementsMissed, &l, nil), nil
		}
	}
	if fp == "" {
		return result(stateCode(l.State), &l, nil), nil
	}
	m, err := scanMachine(d.QueryRowContext(ctx, `SELECT `+machineColumns+` FROM license_machines WHERE license_id = $1 AND fingerprint = $2`, l.ID, fp))
	if err == nil && m.Lapsed(l, now) {
		err = errNoMachine
	}
	if errors.Is(err, errNoMachine) {
		seats, err := liveSeats(ctx, d, l, now)
		if err != nil {
			return Result{}, err
		}
		if l.MaxMachines > 0 && seats >= l.MaxMachines {
			return result(CodeFingerprintScope, &l, nil), nil
		}
		return result(CodeNotActivated, &l, nil), nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("validate license: %w", err)
	}
	if now.Sub(m.LastSeenAt) >= seenEvery {
		if _, err := d.ExecContext(ctx, `UPDATE license_machines SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1`, now, m.ID); err != nil {
			return Result{}, fmt.Errorf("validate license: %w", err)
		}
		m.LastSeenAt = now
	}
	// A reported version is recorded when it changed (an upgrade), not
	// at every validation: the notices' audiences read it.
	if version != "" && version != m.Version {
		if _, err := d.ExecContext(ctx, `UPDATE license_machines SET version = $1 WHERE id = $2`, version, m.ID); err != nil {
			return Result{}, fmt.Errorf("validate license: %w", err)
		}
		m.Version = version
	}
	return result(stateCode(l.State), &l, &m), nil
}

// liveSeats counts the seats of l taken at now (lapsed ones excluded).
func liveSeats(ctx context.Context, q db.Querier, l License, now time.Time) (int, error) {
	var n int
	var err error
	if l.CheckInDays > 0 {
		err = q.QueryRowContext(ctx, `SELECT count(*) FROM license_machines WHERE license_id = $1 AND COALESCE(last_check_in_at, activated_at) > $2`,
			l.ID, now.AddDate(0, 0, -l.CheckInDays)).Scan(&n)
	} else {
		err = q.QueryRowContext(ctx, `SELECT count(*) FROM license_machines WHERE license_id = $1`, l.ID).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count machines: %w", err)
	}
	return n, nil
}

// Activate gives the machine a seat of the license: the machine again when
// it holds one (idempotent; host name and platform are updated), a new
// seat while the license has one free (lapsed seats are freed first), else
// TOO_MANY_MACHINES. A license that is not VALID or IN_GRACE answers its
// state and activates nothing. The machine limit holds under concurrency
// on both databases, also across instances: the license row is locked.
func Activate(ctx context.Context, d *db.DB, keys PublicKeys, key string, mi MachineInfo, now time.Time) (Result, error) {
	return ActivateKey(ctx, d, ReadKey(keys, key), mi, now)
}

// Key is a license key read once by ReadKey: its payload when it
// verified, else the answer refusing it. The API reads an activation's key
// once, for its rate limit per license and for ActivateKey.
type Key struct {
	payload Payload
	refused *Result
}

// ReadKey verifies key (ParseKey) and keeps the payload or the refusal.
func ReadKey(keys PublicKeys, key string) Key {
	p, refused := parse(keys, key)
	return Key{payload: p, refused: refused}
}

// License is the license id of a key that verified; ok is false for one
// that did not.
func (k Key) License() (lic string, ok bool) {
	return k.payload.License, k.refused == nil
}

// ActivateKey is Activate of a key ReadKey read.
func ActivateKey(ctx context.Context, d *db.DB, k Key, mi MachineInfo, now time.Time) (Result, error) {
	now = now.UTC() // times are compared in SQL: one zone
	fp, err := fingerprintHash(mi.Fingerprint, true)
	if err != nil {
		return Result{}, err
	}
	var p input.Problems
	p.Clean(input.Spec{Field: "hostname", Label: "The host name", Max: 255}, &mi.Hostname)
	p.Clean(input.Spec{Field: "platform", Label: "The platform", Max: 100}, &mi.Platform)
	if err := p.Err(); err != nil {
		return Result{}, err
	}
	if k.refused != nil {
		return *k.refused, nil
	}
	var res Result
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		l, answered, err := lockUsable(ctx, tx, d.Dialect, k.payload, now)
		if err != nil || answered != nil {
			if answered != nil {
				res = *answered
			}
			return err
		}
		m, err := scanMachine(tx.QueryRowContext(ctx, `SELECT `+machineColumns+` FROM license_machines WHERE license_id = $1 AND fingerprint = $2`, l.ID, fp))
		if err == nil {
			if _, err := tx.ExecContext(ctx, `UPDATE license_machines SET hostname = $1, platform = $2, last_seen_at = $3 WHERE id = $4`,
				mi.Hostname, mi.Platform, now, m.ID); err != nil {
				return fmt.Errorf("activate machine: %w", err)
			}
			m.Hostname, m.Platform, m.LastSeenAt = mi.Hostname, mi.Platform, now
			res = result(stateCode(l.State), &l, &m)
			return nil
		}
		if !errors.Is(err, errNoMachine) {
			return err
		}
		if l.MaxMachines > 0 {
			seats, err := liveSeats(ctx, tx, l, now)
			if err != nil {
				return err
			}
			if seats >= l.MaxMachines {
				res = result(CodeTooManyMachines, &l, nil)
				return nil
			}
		}
		m = Machine{LicenseID: l.ID, Fingerprint: fp, Hostname: mi.Hostname, Platform: mi.Platform, ActivatedAt: now, LastSeenAt: now}
		err = tx.QueryRowContext(ctx, `INSERT INTO license_machines (license_id, fingerprint, hostname, platform, activated_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`, l.ID, fp, mi.Hostname, mi.Platform, now).Scan(&m.ID)
		if err != nil {
			return fmt.Errorf("activate machine: %w", err)
		}
		// The first activation stays recorded when seats are freed later:
		// the analytics' funnel counts it (internal/analytics).
		if _, err := tx.ExecContext(ctx, `UPDATE licenses SET first_activated_at = $1 WHERE id = $2 AND first_activated_at IS NULL`, now, l.ID); err != nil {
			return fmt.Errorf("activate: record the first activation: %w", err)
		}
		res = result(stateCode(l.State), &l, &m)
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("activate: %w", err)
	}
	return res, nil
}

// Deactivate frees the machine's seat, whatever the license's state; the
// Code is then the license's state. NOT_ACTIVATED when the machine holds
// no seat.
func Deactivate(ctx context.Context, d *db.DB, keys PublicKeys, key, fingerprint string, now time.Time) (Result, error) {
	now = now.UTC() // times are compared in SQL: one zone
	fp, err := fingerprintHash(fingerprint, true)
	if err != nil {
		return Result{}, err
	}
	pl, refused := parse(keys, key)
	if refused != nil {
		return *refused, nil
	}
	var res Result
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		l, err := lockLicense(ctx, tx, d.Dialect, "lic = $1", pl.License, now)
		if errors.Is(err, ErrNotFound) {
			res = result(CodeNotFound, nil, nil)
			return nil
		}
		if err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM license_machines WHERE license_id = $1 AND fingerprint = $2`, l.ID, fp)
		if err != nil {
			return fmt.Errorf("deactivate machine: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			res = result(CodeNotActivated, &l, nil)
			return nil
		}
		res = result(stateCode(l.State), &l, nil)
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("deactivate: %w", err)
	}
	return res, nil
}

// CheckIn records that the machine is running, with the installed
// product version (optional). A machine whose seat lapsed for want of a
// check-in holds none any more: NOT_ACTIVATED (activate it again). A
// license that is not VALID or IN_GRACE answers its state and records
// nothing.
func CheckIn(ctx context.Context, d *db.DB, keys PublicKeys, key, fingerprint, version string, now time.Time) (Result, error) {
	now = now.UTC() // times are compared in SQL: one zone
	fp, err := fingerprintHash(fingerprint, true)
	if err != nil {
		return Result{}, err
	}
	if version, err = CheckVersion(version); err != nil {
		return Result{}, err
	}
	pl, refused := parse(keys, key)
	if refused != nil {
		return *refused, nil
	}
	var res Result
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		l, answered, err := lockUsable(ctx, tx, d.Dialect, pl, now)
		if err != nil || answered != nil {
			if answered != nil {
				res = *answered
			}
			return err
		}
		m, err := scanMachine(tx.QueryRowContext(ctx, `SELECT `+machineColumns+` FROM license_machines WHERE license_id = $1 AND fingerprint = $2`, l.ID, fp))
		if errors.Is(err, errNoMachine) {
			res = result(CodeNotActivated, &l, nil)
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE license_machines SET last_check_in_at = $1, last_seen_at = $1, version = $2 WHERE id = $3`,
			now, version, m.ID); err != nil {
			return fmt.Errorf("check in: %w", err)
		}
		m.LastCheckIn, m.LastSeenAt, m.Version = now, now, version
		res = result(stateCode(l.State), &l, &m)
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("check in: %w", err)
	}
	return res, nil
}

// File makes a license file of the license with the state at now, bound to
// the machine when fingerprint is given (which must hold a seat, else
// NOT_ACTIVATED and no file). A file is made in every state, which it
// carries (st), so a product offline learns of a suspension too. It
// expires after FileLifetime, sooner when the term (and grace) ends or
// when machines must check in more often.
func File(ctx context.Context, d *db.DB, keys *Keyring, key, fingerprint string, now time.Time) ([]byte, Result, error) {
	now = now.UTC() // times are compared in SQL: one zone
	fp, err := fingerprintHash(fingerprint, false)
	if err != nil {
		return nil, Result{}, err
	}
	pl, refused := parse(keys, key)
	if refused != nil {
		return nil, *refused, nil
	}
	l, err := ByLicenseID(ctx, d, pl.License, now)
	if errors.Is(err, ErrNotFound) {
		return nil, result(CodeNotFound, nil, nil), nil
	}
	if err != nil {
		return nil, Result{}, fmt.Errorf("license file: %w", err)
	}
	var mp *Machine
	if fp != "" {
		m, err := scanMachine(d.QueryRowContext(ctx, `SELECT `+machineColumns+` FROM license_machines WHERE license_id = $1 AND fingerprint = $2`, l.ID, fp))
		if err == nil && m.Lapsed(l, now) {
			err = errNoMachine
		}
		if errors.Is(err, errNoMachine) {
			return nil, result(CodeNotActivated, &l, nil), nil
		}
		if err != nil {
			return nil, Result{}, fmt.Errorf("license file: %w", err)
		}
		mp = &m
	}
	now = now.UTC().Truncate(time.Second)
	fexp := now.Add(FileLifetime)
	end := l.ExpiresAt
	if !l.GraceEndsAt.IsZero() {
		end = l.GraceEndsAt
	}
	if !end.IsZero() && end.After(now) && end.Before(fexp) {
		fexp = end
	}
	if l.CheckInDays > 0 {
		if ci := now.AddDate(0, 0, l.CheckInDays); ci.Before(fexp) {
			fexp = ci
		}
	}
	file, err := MakeFile(keys.Signer(), FilePayload{
		Payload: Payload{License: l.LicenseID, Product: l.Product, Edition: l.Edition, Entitlements: l.Entitlements,
			IssuedAt: unix(l.IssuedAt), Expires: unix(l.ExpiresAt), UpdatesUntil: unix(l.UpdatesUntil), MaxMachines: l.MaxMachines},
		Key: l.Key, State: l.State, Grace: unix(l.GraceEndsAt), FileIssued: now.Unix(), FileExpires: fexp.Unix(), Fingerprint: fp})
	if err != nil {
		return nil, Result{}, err
	}
	return file, result(stateCode(l.State), &l, mp), nil
}

// lockUsable locks the license a parsed key names for a change to its
// machines, inside tx, and frees its lapsed seats. When the license does
// not exist or its state allows no machine change, answered is the Result
// to give instead.
func lockUsable(ctx context.Context, tx *sql.Tx, d db.Dialect, pl Payload, now time.Time) (l License, answered *Result, err error) {
	l, err = lockLicense(ctx, tx, d, "lic = $1", pl.License, now)
	if errors.Is(err, ErrNotFound) {
		r := result(CodeNotFound, nil, nil)
		return l, &r, nil
	}
	if err != nil {
		return l, nil, err
	}
	if c := stateCode(l.State); !c.OK() {
		r := result(c, &l, nil)
		return l, &r, nil
	}
	return l, nil, freeLapsed(ctx, tx, l, now)
}
