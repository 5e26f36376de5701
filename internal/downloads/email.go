package downloads

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/token"
)

// Email-gated downloads: a release marked EmailGated (trials, free
// downloads) is offered to anyone who confirms an email address. The
// visitor asks with an address (RequestByEmail), which mails a one-time
// link; the link confirms the address once, within ConfirmTTL
// (ConfirmEmailRequest), and the confirmed request then opens the
// release's files for AccessTTL (CheckEmailGrant, on every download).
// The address is used for this and nothing else; the rows are deleted
// after the retention the inventory declares (internal/privacy).
//
// Rate limits are the caller's, at the edge (internal/web/trials): per
// address and per network, as for sign-in links.

// How long each step lasts. A day to read the mail, a week to download
// (several platforms, a second try); the retention (30 days, in the
// inventory) outlasts both, so a row is never purged while it works.
const (
	ConfirmTTL = 24 * time.Hour
	AccessTTL  = 7 * 24 * time.Hour
)

// Refusals of the email-gated downloads. A link that cannot confirm says
// why in words the visitor can act on: ask again.
var (
	ErrNotOfferedByEmail = refuse.New(refuse.NotFound, "download_not_by_email",
		"This release is not offered for download by email address.")
	ErrConfirmLink = refuse.New(refuse.Gone, "download_confirm_link",
		"This confirmation link is not valid. Ask for a new one with your email address.")
	ErrAccessEnded = refuse.New(refuse.Gone, "download_access_ended",
		"The downloads for this address have ended. Ask for a new link with your email address.")
)

// EmailRequest is one request for an email-gated release.
type EmailRequest struct {
	ID          int64
	ReleaseID   int64
	Email       string
	CreatedAt   time.Time
	ExpiresAt   time.Time // the link confirms until then
	ConfirmedAt time.Time // zero until confirmed
	AccessUntil time.Time // zero until confirmed; downloads work until then
}

// Confirmed reports whether the address was confirmed.
func (e EmailRequest) Confirmed() bool { return !e.ConfirmedAt.IsZero() }

// TrialMail is the data of "trial_download" (internal/mail/templates):
// the link that confirms the address, and what the address is used for.
type TrialMail struct {
	SiteName string
	Product  string // "QuillGuard Milter"
	Version  string // "2.4.0"
	Link     string
	Hours    int // how long the link confirms
	Days     int // how long the downloads work once confirmed
	KeepDays int // how long the address is kept
}

// KeepDays is the retention of download_requests as the inventory
// declares it (internal/privacy/inventory_releases.go), for the words of
// the form and the mail; the privacy tests hold the two together.
const KeepDays = 30

// NewEmailRequest is what a visitor asks for.
type NewEmailRequest struct {
	Email     string // as typed
	ReleaseID int64
	// SiteName and BaseURL ("https://shop.example.com") make the mail and
	// its link.
	SiteName string
	BaseURL  string
}

// OfferedByEmail is whether rel may be asked for by email address now:
// nil, or the refusal saying why not.
func OfferedByEmail(rel releases.Release) error {
	switch {
	case rel.Draft():
		return ErrNotOfferedByEmail
	case rel.Yanked():
		return ErrWithdrawn
	case !rel.EmailGated:
		return ErrNotOfferedByEmail
	}
	return nil
}

// EmailGated returns the product's (slug) published, not withdrawn,
// email-gated releases, newest first, with their artifacts.
func EmailGated(ctx context.Context, q db.Querier, product string) ([]releases.Release, error) {
	all, err := releases.Published(ctx, q, product)
	if err != nil {
		return nil, err
	}
	var out []releases.Release
	for _, r := range all {
		if r.EmailGated {
			out = append(out, r)
		}
	}
	return out, nil
}

// ConfirmPath is the path of a request's confirmation link.
func ConfirmPath(raw string) string { return "/downloads/confirm/" + raw }

// RequestByEmail records a request for an email-gated release and queues
// the mail with its confirmation link, both in tx, and returns the
// request and the link's token (only its hash is stored). The address must be
// one (emailaddr), the release published, not withdrawn and email-gated;
// anything else is refused with nothing written. Each request has its own
// link, valid until used or expired, so a slow mail does not spoil a
// newer request.
func RequestByEmail(ctx context.Context, tx *sql.Tx, nr NewEmailRequest, now time.Time) (EmailRequest, string, error) {
	typed, err := input.Line("email", "The email address", emailaddr.MaxLength, nr.Email)
	if err != nil {
		return EmailRequest{}, "", err
	}
	email, err := emailaddr.NormaliseEmail(typed)
	if err != nil {
		return EmailRequest{}, "", refuse.Field("email", "Enter your email address, such as name@example.com.")
	}
	rel, err := releases.ByID(ctx, tx, nr.ReleaseID)
	if errors.Is(err, releases.ErrNotFound) {
		return EmailRequest{}, "", ErrNotOfferedByEmail
	}
	if err != nil {
		return EmailRequest{}, "", err
	}
	if err := OfferedByEmail(rel); err != nil {
		return EmailRequest{}, "", err
	}
	now = now.UTC()
	raw, hash := token.New()
	e := EmailRequest{ReleaseID: rel.ID, Email: email, CreatedAt: now, ExpiresAt: now.Add(ConfirmTTL)}
	err = tx.QueryRowContext(ctx, `INSERT INTO download_requests (release_id, email, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, e.ReleaseID, e.Email, hash, e.CreatedAt, e.ExpiresAt).Scan(&e.ID)
	if err != nil {
		return EmailRequest{}, "", fmt.Errorf("record download request: %w", err)
	}
	m, err := mail.Compose("trial_download", email, TrialMail{SiteName: nr.SiteName, Product: rel.ProductName,
		Version: rel.Version.String(), Link: nr.BaseURL + ConfirmPath(raw),
		Hours: int(ConfirmTTL.Hours()), Days: int(AccessTTL.Hours() / 24), KeepDays: KeepDays})
	if err != nil {
		return EmailRequest{}, "", err
	}
	if _, err := mail.Enqueue(ctx, tx, m, now); err != nil {
		return EmailRequest{}, "", err
	}
	return e, raw, nil
}

const requestCols = `id, release_id, email, created_at, expires_at, confirmed_at, access_until`

func scanRequest(row interface{ Scan(...any) error }) (EmailRequest, error) {
	var e EmailRequest
	var confirmed, until sql.NullTime
	if err := row.Scan(&e.ID, &e.ReleaseID, &e.Email, &e.CreatedAt, &e.ExpiresAt, &confirmed, &until); err != nil {
		return EmailRequest{}, err
	}
	e.CreatedAt, e.ExpiresAt = e.CreatedAt.UTC(), e.ExpiresAt.UTC()
	if confirmed.Valid {
		e.ConfirmedAt = confirmed.Time.UTC()
	}
	if until.Valid {
		e.AccessUntil = until.Time.UTC()
	}
	return e, nil
}

// plausibleToken is whether raw could be a token of internal/token (43
// characters of base64url); anything else is refused without a query.
func plausibleToken(raw string) bool {
	if len(raw) != 43 {
		return false
	}
	for _, c := range raw {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// linkRefusal reads what became of the request of raw, to say why its
// link does not confirm: unknown (mistyped, tampered, erased), used, or
// expired.
func linkRefusal(ctx context.Context, q db.Querier, raw string, now time.Time) error {
	if !plausibleToken(raw) {
		return ErrConfirmLink
	}
	e, err := scanRequest(q.QueryRowContext(ctx, `SELECT `+requestCols+` FROM download_requests WHERE token_hash = $1`, token.Hash(raw)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrConfirmLink
	case err != nil:
		return fmt.Errorf("read download request: %w", err)
	case e.Confirmed():
		return ErrConfirmLink.Withf("This confirmation link was used on %s; each link confirms once. Ask for a new one with your email address.", day(e.ConfirmedAt))
	case !now.Before(e.ExpiresAt):
		return ErrConfirmLink.Withf("This confirmation link expired on %s; each link works for %d hours. Ask for a new one with your email address.",
			day(e.ExpiresAt), int(ConfirmTTL.Hours()))
	}
	return ErrConfirmLink
}

// PeekEmailRequest returns the request whose link raw is, with its
// release, while the link can still confirm it, changing nothing: the
// page a link opens shows a button, and only that button's POST confirms
// (mail scanners fetch links, they do not submit forms).
func PeekEmailRequest(ctx context.Context, q db.Querier, raw string, now time.Time) (EmailRequest, releases.Release, error) {
	if !plausibleToken(raw) {
		return EmailRequest{}, releases.Release{}, ErrConfirmLink
	}
	e, err := scanRequest(q.QueryRowContext(ctx, `SELECT `+requestCols+` FROM download_requests
		WHERE token_hash = $1 AND confirmed_at IS NULL AND expires_at > $2`, token.Hash(raw), now.UTC()))
	if errors.Is(err, sql.ErrNoRows) {
		return EmailRequest{}, releases.Release{}, linkRefusal(ctx, q, raw, now)
	}
	if err != nil {
		return EmailRequest{}, releases.Release{}, fmt.Errorf("read download request: %w", err)
	}
	rel, err := offeredRelease(ctx, q, e.ReleaseID)
	if err != nil {
		return EmailRequest{}, releases.Release{}, err
	}
	return e, rel, nil
}

// offeredRelease reads a request's release, refused unless it is still
// offered by email.
func offeredRelease(ctx context.Context, q db.Querier, id int64) (releases.Release, error) {
	rel, err := releases.ByID(ctx, q, id)
	if errors.Is(err, releases.ErrNotFound) {
		return releases.Release{}, ErrNotOfferedByEmail
	}
	if err != nil {
		return releases.Release{}, err
	}
	return rel, OfferedByEmail(rel)
}

// ConfirmEmailRequest uses the link raw: it confirms the address and
// opens the release's files until AccessTTL from now, and returns the
// request with its release. A link confirms once (of several requests
// racing with one link exactly one wins the conditional update); a used,
// expired, unknown or altered link is ErrConfirmLink, and a release
// withdrawn or no longer email-gated since is refused; either way the
// caller's transaction should be rolled back and nothing changes.
func ConfirmEmailRequest(ctx context.Context, tx *sql.Tx, raw string, now time.Time) (EmailRequest, releases.Release, error) {
	if !plausibleToken(raw) {
		return EmailRequest{}, releases.Release{}, ErrConfirmLink
	}
	now = now.UTC()
	e, err := scanRequest(tx.QueryRowContext(ctx, `UPDATE download_requests SET confirmed_at = $1, access_until = $2
		WHERE token_hash = $3 AND confirmed_at IS NULL AND expires_at > $1
		RETURNING `+requestCols, now, now.Add(AccessTTL), token.Hash(raw)))
	if errors.Is(err, sql.ErrNoRows) {
		return EmailRequest{}, releases.Release{}, linkRefusal(ctx, tx, raw, now)
	}
	if err != nil {
		return EmailRequest{}, releases.Release{}, fmt.Errorf("confirm download request: %w", err)
	}
	rel, err := offeredRelease(ctx, tx, e.ReleaseID)
	if err != nil {
		return EmailRequest{}, releases.Release{}, err
	}
	return e, rel, nil
}

// CheckEmailGrant says whether the email-gated download request id still
// entitles its holder to the files of rel at now: the request must exist
// (an erased or purged one does not), be confirmed, be for rel, and its
// access must not have ended; rel must still be published, not withdrawn
// and email-gated. It returns nil when it does, else a refusal: a grant
// that never held is ErrLinkInvalid, whatever the reason, so a forged
// grant learns nothing.
func CheckEmailGrant(ctx context.Context, q db.Querier, id int64, rel releases.Release, now time.Time) error {
	e, err := scanRequest(q.QueryRowContext(ctx, `SELECT `+requestCols+` FROM download_requests WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ErrLinkInvalid
	}
	if err != nil {
		return fmt.Errorf("read download request: %w", err)
	}
	if !e.Confirmed() || e.ReleaseID != rel.ID {
		return ErrLinkInvalid
	}
	if err := OfferedByEmail(rel); err != nil {
		if errors.Is(err, ErrWithdrawn) {
			return err
		}
		return ErrLinkInvalid
	}
	if !now.Before(e.AccessUntil) {
		return ErrAccessEnded.Withf("The downloads for this address ended on %s. Ask for a new link with your email address.", day(e.AccessUntil))
	}
	return nil
}

// EmailOffer is the email-gated release the product's form offers: the
// newest stable one, else the newest of any channel; ok is false when the
// product has none.
func EmailOffer(ctx context.Context, q db.Querier, product string) (rel releases.Release, ok bool, err error) {
	gated, err := EmailGated(ctx, q, product)
	if err != nil {
		return releases.Release{}, false, err
	}
	if rel, ok = Newest(gated, releases.Stable); !ok {
		rel, ok = Newest(gated, releases.Beta)
	}
	return rel, ok, nil
}
