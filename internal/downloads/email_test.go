package downloads_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/releases/releasetest"
	"github.com/storekeep/storekeep/internal/testutil"
)

var t0 = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// trialFixture is a product with releases made through the releases
// domain: gated (published, email-gated), plain (published, not gated),
// draft (email-gated, not published) and old (email-gated, yanked).
type trialFixture struct {
	rs                         *releases.Releases
	gated, plain, draft, other releases.Release
}

func newTrialFixture(t *testing.T, d *db.DB) trialFixture {
	t.Helper()
	ctx := context.Background()
	if err := d.Tx(ctx, func(tx *sql.Tx) error {
		_, err := catalog.Create(ctx, tx, catalog.NewProduct{Slug: "acme", Name: "Acme Filter"}, t0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	store, err := releases.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := releases.GenerateSigningKey(filepath.Join(t.TempDir(), "keys"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := trialFixture{rs: &releases.Releases{DB: d, Store: store, Signer: signer, Clock: clock.NewFixed(t0), MaxSize: 1 << 20}}
	mk := func(version string, gated, publish bool) releases.Release {
		r, err := f.rs.Create(ctx, audit.System(), releases.NewRelease{Product: "acme", Version: version, EmailGated: gated})
		if err != nil {
			t.Fatal(err)
		}
		name := "acme-" + version + ".tar.gz"
		if _, err := f.rs.AddArtifact(ctx, audit.System(), r.ID, releases.NewArtifact{FileName: name, Platform: "any",
			Content: strings.NewReader(string(releasetest.Tarball(t, name, []byte("acme "+version))))}); err != nil {
			t.Fatal(err)
		}
		if publish {
			if r, err = f.rs.Publish(ctx, audit.System(), r.ID); err != nil {
				t.Fatal(err)
			}
		}
		r, err = releases.ByID(ctx, d, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	f.gated = mk("2.0.0", true, true)
	f.plain = mk("1.0.0", false, true)
	f.draft = mk("3.0.0-beta.1", true, false)
	f.other = mk("1.5.0", true, true)
	return f
}

func ask(t *testing.T, d *db.DB, email string, rel int64, now time.Time) (downloads.EmailRequest, string, error) {
	t.Helper()
	var e downloads.EmailRequest
	var raw string
	err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		e, raw, err = downloads.RequestByEmail(context.Background(), tx, downloads.NewEmailRequest{Email: email, ReleaseID: rel,
			SiteName: "Milterworks", BaseURL: "https://shop.example.com"}, now)
		return err
	})
	return e, raw, err
}

func confirm(d *db.DB, raw string, now time.Time) (downloads.EmailRequest, releases.Release, error) {
	var e downloads.EmailRequest
	var rel releases.Release
	err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		e, rel, err = downloads.ConfirmEmailRequest(context.Background(), tx, raw, now)
		return err
	})
	return e, rel, err
}

func count(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantCode(t *testing.T, err error, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	if _, ok := refuse.As(err); !ok {
		t.Fatalf("%v is not a refusal", err)
	}
}

var confirmLinkRE = regexp.MustCompile(`https://shop\.example\.com/downloads/confirm/([A-Za-z0-9_-]{43})`)

// TestEmailGatedDownload walks the whole way: the request is stored with
// only the link's hash, its mail goes out over SMTP with the link and what
// the address is used for, the link confirms once, and the confirmed
// request opens its release's files for a week and nothing else.
func TestEmailGatedDownload(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newTrialFixture(t, d)
		e, raw, err := ask(t, d, "  Trial.User@Example.COM ", f.gated.ID, t0)
		if err != nil {
			t.Fatal(err)
		}
		if e.Email != "trial.user@example.com" || e.ReleaseID != f.gated.ID || e.Confirmed() || !e.ExpiresAt.Equal(t0.Add(24*time.Hour)) {
			t.Fatalf("request: %+v", e)
		}
		if count(t, d, `SELECT count(*) FROM download_requests WHERE token_hash = $1`, raw) != 0 ||
			count(t, d, `SELECT count(*) FROM download_requests WHERE id = $1 AND length(token_hash) = 64`, e.ID) != 1 {
			t.Fatal("the token is stored, or its hash is not")
		}

		// The mail, delivered by the worker to a real SMTP server.
		sink := testutil.StartSMTP(t)
		sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone,
			Timeout: 5 * time.Second, SendTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		w := &mail.Worker{DB: d, Sender: sender, Clock: clock.NewFixed(t0), From: "shop@milterworks.example", ID: "test", SendTimeout: 10 * time.Second}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got := sink.WaitFor(1, 10*time.Second)
		if len(got) != 1 || got[0].To[0] != "trial.user@example.com" {
			t.Fatalf("delivered: %+v", got)
		}
		m := got[0]
		link := confirmLinkRE.FindStringSubmatch(m.Text)
		if link == nil || link[1] != raw || !strings.Contains(m.Subject, "Acme Filter 2.0.0") ||
			!strings.Contains(m.Text, "no marketing") || !strings.Contains(m.HTML, "no marketing") {
			t.Fatalf("mail:\n%s\n%s", m.Subject, m.Text)
		}

		// Before confirming, no grant; peeking changes nothing.
		wantCode(t, downloads.CheckEmailGrant(ctx, d, e.ID, f.gated, t0), downloads.ErrLinkInvalid)
		if p, rel, err := downloads.PeekEmailRequest(ctx, d, raw, t0.Add(time.Hour)); err != nil || p.ID != e.ID || rel.ID != f.gated.ID {
			t.Fatalf("peek: %+v %v", p, err)
		}
		if _, _, err := downloads.PeekEmailRequest(ctx, d, raw, t0.Add(time.Hour)); err != nil {
			t.Fatalf("a second look spent the link: %v", err)
		}

		// A tampered link confirms nothing.
		tampered := raw[:42] + "A"
		if raw[42] == 'A' {
			tampered = raw[:42] + "B"
		}
		for _, bad := range []string{tampered, raw + "x", "", "../../etc/passwd", strings.Repeat("A", 43)} {
			_, _, err := confirm(d, bad, t0.Add(time.Hour))
			wantCode(t, err, downloads.ErrConfirmLink)
		}

		// Confirming opens the files for a week.
		at := t0.Add(2 * time.Hour)
		c, rel, err := confirm(d, raw, at)
		if err != nil || c.ID != e.ID || !c.ConfirmedAt.Equal(at) || !c.AccessUntil.Equal(at.Add(7*24*time.Hour)) || rel.ID != f.gated.ID {
			t.Fatalf("confirm: %+v %v", c, err)
		}
		// The link works once: a replay is refused and says so.
		_, _, err = confirm(d, raw, at.Add(time.Minute))
		wantCode(t, err, downloads.ErrConfirmLink)
		if !strings.Contains(err.Error(), "was used on") {
			t.Fatalf("replay refusal: %v", err)
		}
		_, _, err = downloads.PeekEmailRequest(ctx, d, raw, at.Add(time.Minute))
		wantCode(t, err, downloads.ErrConfirmLink)

		if err := downloads.CheckEmailGrant(ctx, d, e.ID, f.gated, at.Add(6*24*time.Hour)); err != nil {
			t.Fatalf("grant within the week: %v", err)
		}
		// Expired.
		err = downloads.CheckEmailGrant(ctx, d, e.ID, f.gated, at.Add(7*24*time.Hour))
		wantCode(t, err, downloads.ErrAccessEnded)
		// Another release, even an email-gated one; an unknown request.
		wantCode(t, downloads.CheckEmailGrant(ctx, d, e.ID, f.other, at), downloads.ErrLinkInvalid)
		wantCode(t, downloads.CheckEmailGrant(ctx, d, e.ID+1000, f.gated, at), downloads.ErrLinkInvalid)
		// The release yanked since: gone for everyone.
		yanked, err := f.rs.Yank(ctx, audit.System(), f.gated.ID, "broken build")
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, downloads.CheckEmailGrant(ctx, d, e.ID, yanked, at), downloads.ErrWithdrawn)
		// No longer email-gated (as the release would be read then).
		ungated := f.gated
		ungated.EmailGated = false
		wantCode(t, downloads.CheckEmailGrant(ctx, d, e.ID, ungated, at), downloads.ErrLinkInvalid)

		// Downloads with the request are logged against it.
		if err := downloads.Record(ctx, d, downloads.Download{ArtifactID: f.gated.Artifacts[0].ID, RequestID: e.ID, Via: downloads.ViaEmail, At: at}); err != nil {
			t.Fatal(err)
		}
		if count(t, d, `SELECT count(*) FROM downloads WHERE request_id = $1 AND via = 'email' AND customer_id IS NULL`, e.ID) != 1 {
			t.Fatal("the download is not tied to its request")
		}
	})
}

// TestEmailGatedRequestRefusals: bad addresses and releases that are not
// offered by email are refused with nothing written and no mail; a link
// not used within a day expires; a release yanked between the request
// and the confirmation leaves the request unconfirmed.
func TestEmailGatedRequestRefusals(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newTrialFixture(t, d)
		for _, bad := range []string{"", "not an address", "a@b", "x@example.com\nBcc: y@example.com", strings.Repeat("a", 250) + "@example.com"} {
			_, _, err := ask(t, d, bad, f.gated.ID, t0)
			if r, ok := refuse.As(err); !ok || r.Field != "email" {
				t.Errorf("address %q: %v", bad, err)
			}
		}
		_, _, err := ask(t, d, "v@example.com", f.plain.ID, t0)
		wantCode(t, err, downloads.ErrNotOfferedByEmail)
		_, _, err = ask(t, d, "v@example.com", f.draft.ID, t0)
		wantCode(t, err, downloads.ErrNotOfferedByEmail)
		_, _, err = ask(t, d, "v@example.com", 999999, t0)
		wantCode(t, err, downloads.ErrNotOfferedByEmail)
		if _, err := f.rs.Yank(ctx, audit.System(), f.other.ID, "superseded"); err != nil {
			t.Fatal(err)
		}
		_, _, err = ask(t, d, "v@example.com", f.other.ID, t0)
		wantCode(t, err, downloads.ErrWithdrawn)
		if n := count(t, d, `SELECT count(*) FROM download_requests`) + count(t, d, `SELECT count(*) FROM outbox`); n != 0 {
			t.Fatalf("refused requests wrote %d rows", n)
		}

		// Expired before it was used.
		e, raw, err := ask(t, d, "v@example.com", f.gated.ID, t0)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = confirm(d, raw, t0.Add(24*time.Hour))
		wantCode(t, err, downloads.ErrConfirmLink)
		if !strings.Contains(err.Error(), "expired on") {
			t.Fatalf("expiry refusal: %v", err)
		}
		wantCode(t, downloads.CheckEmailGrant(ctx, d, e.ID, f.gated, t0.Add(25*time.Hour)), downloads.ErrLinkInvalid)

		// Yanked between request and confirmation: refused, still unconfirmed.
		_, raw, err = ask(t, d, "w@example.com", f.gated.ID, t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.rs.Yank(ctx, audit.System(), f.gated.ID, "broken"); err != nil {
			t.Fatal(err)
		}
		_, _, err = confirm(d, raw, t0.Add(time.Hour))
		wantCode(t, err, downloads.ErrWithdrawn)
		if count(t, d, `SELECT count(*) FROM download_requests WHERE confirmed_at IS NOT NULL`) != 0 {
			t.Fatal("a refused confirmation confirmed")
		}
	})
}

// TestEmailGatedListsOnlyOfferedReleases: what the form offers.
func TestEmailGatedListsOnlyOfferedReleases(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newTrialFixture(t, d)
		got, err := downloads.EmailGated(context.Background(), d, "acme")
		if err != nil || len(got) != 2 || got[0].ID != f.gated.ID || got[1].ID != f.other.ID {
			t.Fatalf("email-gated releases: %+v, %v", got, err)
		}
	})
}
