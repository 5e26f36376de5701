package requests

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
)

// Verification codes: eight characters people can read out without
// confusing letters and digits, valid for a day, for five tries, once.
const (
	CodeTTL         = 24 * time.Hour
	MaxCodeAttempts = 5
	codeAlphabet    = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	codeLength      = 8
)

// newCode returns a fresh code, formatted as two groups of four.
func newCode() string {
	b := make([]byte, codeLength)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(codeAlphabet))))
		if err != nil {
			panic(err)
		}
		b[i] = codeAlphabet[n.Int64()]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// normaliseCode accepts a code however it was typed: any case, with or
// without the dash and spaces.
func normaliseCode(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "", "\t", "").Replace(s))
}

// codeHash binds a code to its request, so a code is worthless for any
// other request.
func codeHash(id int64, code string) string {
	sum := sha256.Sum256([]byte(itoa(id) + ":" + normaliseCode(code)))
	return hex.EncodeToString(sum[:])
}

// codeAddress is where a request's code goes: the address of the
// customer's account when there is one (it may have changed since the
// request arrived), else the address given with the request.
func codeAddress(ctx context.Context, q db.Querier, r Request) (string, error) {
	if r.CustomerID == 0 {
		return r.Email, nil
	}
	c, err := customers.ByID(ctx, q, r.CustomerID)
	if errors.Is(err, customers.ErrNotFound) || (err == nil && strings.HasSuffix(c.Email, ".invalid")) {
		return r.Email, nil
	}
	if err != nil {
		return "", err
	}
	return c.Email, nil
}

// SendCode mails a new verification code to the address on file; an
// earlier code stops working. Staff never see the code: the requester
// reads it back to them or replies with it, which shows that they receive
// mail at that address.
func SendCode(ctx context.Context, d *db.DB, lim Limiter, id int64, by Actor, now time.Time) (Request, error) {
	if lim != nil {
		ok, err := lim.Allow(ctx, lim.Key("privacy-request-code", itoa(id)), LimitCodes, now)
		if err != nil {
			return Request{}, err
		}
		if !ok {
			return step(ctx, d, id, "send_code", by, now, func(*sql.Tx, Request) (result, error) {
				return result{}, refusal(codeLimited, fmt.Sprintf("%d codes were sent for this request today, the most we send in a day. Ask the requester to look for the last one (and in their spam folder), or try again tomorrow.", LimitCodes.Max))
			})
		}
	}
	return step(ctx, d, id, "send_code", by, now, func(tx *sql.Tx, r Request) (result, error) {
		if r.State != Received && r.State != Verifying {
			return result{}, refusal(codeState, "A code is only sent before the work starts; this request is "+r.State.Label()+".")
		}
		to, err := codeAddress(ctx, tx, r)
		if err != nil {
			return result{}, err
		}
		code := newCode()
		if err := move(ctx, tx, r, Verifying, now,
			`UPDATE privacy_requests SET code_hash = $1, code_expires_at = $2, code_attempts = 0, code_used_at = NULL WHERE id = $3`,
			codeHash(r.ID, code), now.Add(CodeTTL).UTC()); err != nil {
			return result{}, err
		}
		v, err := vendor(ctx, tx)
		if err != nil {
			return result{}, err
		}
		err = queue(ctx, tx, "request_verify", to, r, "", VerifyMail{SiteName: v.Name, Number: r.ID, Wish: r.Kind.Wish(),
			Code: code, Hours: int(CodeTTL / time.Hour), PrivacyEmail: v.PrivacyEmail}, now)
		if err != nil {
			return result{}, err
		}
		note := "verification code sent to the address on file, valid until " + now.Add(CodeTTL).Format("2 Jan 2006 15:04 UTC")
		if to != r.Email {
			note += " (the account's current address, which differs from the one given with the request)"
		}
		return result{to: Verifying, note: note, detail: "code sent"}, nil
	})
}

// Verify checks the code the requester gave back. A wrong code counts as
// an attempt; after MaxCodeAttempts, once expired or once used, the code
// no longer works and a new one must be sent. Every failure is recorded.
// When staff have recorded a doubt, a right code is not enough: the
// request stays with them until they Start it, saying what extra proof
// they saw.
func Verify(ctx context.Context, d *db.DB, id int64, code string, by Actor, now time.Time) (Request, error) {
	return step(ctx, d, id, "verify", by, now, func(tx *sql.Tx, r Request) (result, error) {
		switch {
		case !r.CodeUsedAt.IsZero() && !r.CodePending:
			return result{}, refusal(codeCodeUsed, "This request's code was used already, on "+r.CodeUsedAt.Format("2 January 2006 15:04 UTC")+
				": a code works once. The requester's identity is confirmed; nothing more to enter.")
		case r.State != Verifying:
			return result{}, refusal(codeState, "No code is awaited: this request is "+r.State.Label()+".")
		case !r.CodePending:
			return result{}, refusal(codeNoCode, "No code has been sent for this request; send one first.")
		case r.CodeAttempts >= MaxCodeAttempts:
			return result{}, refusal(codeTooMany, fmt.Sprintf("%d wrong codes were entered, so this code no longer works. Send a new code.", MaxCodeAttempts))
		case now.After(r.CodeExpiresAt):
			return result{}, refusal(codeCodeExpired, "The code expired on "+r.CodeExpiresAt.Format("2 January 2006 15:04 UTC")+". Send a new code.")
		}
		var stored string
		if err := tx.QueryRowContext(ctx, `SELECT code_hash FROM privacy_requests WHERE id = $1`, r.ID).Scan(&stored); err != nil {
			return result{}, fmt.Errorf("read verification code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(stored), []byte(codeHash(r.ID, code))) != 1 {
			if _, err := tx.ExecContext(ctx, `UPDATE privacy_requests SET code_attempts = code_attempts + 1, updated_at = $1 WHERE id = $2`, now.UTC(), r.ID); err != nil {
				return result{}, fmt.Errorf("count code attempt: %w", err)
			}
			left := MaxCodeAttempts - r.CodeAttempts - 1
			msg := fmt.Sprintf("The code is wrong; %s left. Check it with the requester.", plural(left, "attempt"))
			if left == 0 {
				msg = "The code is wrong, and that was the last attempt: send a new code."
			}
			return result{}, refusal(codeWrongCode, msg)
		}
		to, note := InProgress, "identity verified by the code sent to the address on file"
		if r.DoubtReason != "" {
			to, note = Verifying, note+"; a doubt is recorded, so the work starts only once extra proof has been seen"
		}
		if err := move(ctx, tx, r, to, now, `UPDATE privacy_requests SET code_hash = NULL, code_used_at = $1, verified_at = $1 WHERE id = $2`, now.UTC()); err != nil {
			return result{}, err
		}
		return result{to: to, note: note, detail: "code accepted"}, nil
	})
}

// Doubt records why staff doubt that the requester is the person whose
// data it is (Art. 12(6)): only then may they ask for more than the code.
func Doubt(ctx context.Context, d *db.DB, id int64, reason string, by Actor, now time.Time) (Request, error) {
	reason, err := checkReason(reason, "Say why you doubt the requester's identity, for example: the request names an address that differs from the one on file.")
	if err != nil {
		return Request{}, err
	}
	return step(ctx, d, id, "doubt", by, now, func(tx *sql.Tx, r Request) (result, error) {
		if r.State != Received && r.State != Verifying {
			return result{}, refusal(codeState, "A doubt is recorded before the work starts; this request is "+r.State.Label()+".")
		}
		// The state stays: the doubt changes what verification needs.
		if _, err := tx.ExecContext(ctx, `UPDATE privacy_requests SET doubt_reason = $1, updated_at = $2 WHERE id = $3`, reason, now.UTC(), r.ID); err != nil {
			return result{}, fmt.Errorf("record doubt: %w", err)
		}
		return result{note: "doubt about the requester's identity: " + reason, detail: "doubt recorded"}, nil
	})
}

// Start begins the work on a request whose requester is verified. After a
// recorded doubt, note must say what extra proof was seen.
func Start(ctx context.Context, d *db.DB, id int64, note string, by Actor, now time.Time) (Request, error) {
	note = strings.TrimSpace(note)
	if len(note) > maxNote {
		return Request{}, refusal(codeInvalid, fmt.Sprintf("The note is longer than %d characters; summarise it.", maxNote))
	}
	return step(ctx, d, id, "start", by, now, func(tx *sql.Tx, r Request) (result, error) {
		if r.State != Received && r.State != Verifying {
			return result{}, refusal(codeState, "Only a request that was received and verified can be started; this one is "+r.State.Label()+".")
		}
		if !r.Verified() {
			return result{}, refusal(codeState, "The requester's identity is not verified yet: send a code to the address on file and enter it when they give it back.")
		}
		if r.DoubtReason != "" && note == "" {
			return result{}, refusal(codeNeedsEvidence, "A doubt about the requester's identity is recorded: say what extra proof you saw before starting the work.")
		}
		if err := move(ctx, tx, r, InProgress, now, ""); err != nil {
			return result{}, err
		}
		ev := "work started"
		if note != "" {
			ev += ": " + note
		}
		return result{to: InProgress, note: ev}, nil
	})
}

// checkReason trims a required reason and checks its length; missing is
// the message when it is empty.
func checkReason(s, missing string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", refusal(codeInvalid, missing)
	case len(s) > maxReason:
		return "", refusal(codeInvalid, fmt.Sprintf("The reason is longer than %d characters; summarise it.", maxReason))
	}
	return s, nil
}
