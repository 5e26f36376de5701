package privacy

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/settings"
)

// The policy archive (docs/policy-archive.md): every published version of
// the two policies keeps its text as the page showed it, so that anyone
// can read an old version and see what changed from one to the next.

// BuildCurrent builds the policy for the stored vendor settings and the
// vendor-written texts, without publishing it.
func BuildCurrent(ctx context.Context, q db.Querier, inv Inventory, f Facts) (Policy, error) {
	v, err := settings.Load(ctx, q)
	if err != nil {
		return Policy{}, err
	}
	p := Build(inv, v, f)
	if err := withRegister(ctx, q, inv, v, &p); err != nil {
		return Policy{}, err
	}
	if p.PrivacyText, p.CookieText, err = LoadTexts(ctx, q); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// Content is a version's text as its page showed it: HTML for reading it
// again, and plain lines (TextLines) for comparing versions.
type Content struct {
	HTML string
	Text string
}

// PublishContent is Publish for a page that has rendered the policy: the
// version of hash is recorded with its content, or, when another caller
// published the version first without it (Publish), its content is filled
// in. A version that predates the archive (NULL content) stays without.
func PublishContent(ctx context.Context, d *db.DB, doc Document, hash string, c Content, now time.Time) (Version, error) {
	v, err := publish(ctx, d, doc, hash, c, now)
	if err != nil {
		return v, err
	}
	if v.Hash != hash {
		// Another instance published a newer hash meanwhile: its page
		// records that version's text.
		return v, nil
	}
	// Look before writing: on PostgreSQL the content-version trigger
	// fires per statement, so even an UPDATE of no row would make every
	// instance render its public pages again.
	var pending int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM policy_versions WHERE document = $1 AND seq = $2 AND content_html = ''`,
		string(doc), v.Seq).Scan(&pending); err != nil {
		return v, fmt.Errorf("read %s policy text: %w", doc, err)
	}
	if pending == 0 {
		return v, nil
	}
	if _, err := d.ExecContext(ctx, `UPDATE policy_versions SET content_html = $1, content_text = $2
		WHERE document = $3 AND seq = $4 AND content_html = ''`, c.HTML, c.Text, string(doc), v.Seq); err != nil {
		return v, fmt.Errorf("record %s policy text: %w", doc, err)
	}
	return v, nil
}

// Archived is a version in the archive, with its text when it was kept.
type Archived struct {
	Version
	Document Document
	// Kept is false for versions published before the archive began
	// (or, for a moment, one no page has shown yet): their text is not
	// known and is never made up.
	Kept bool
	HTML string
	Text string
}

// Versions lists the versions of doc, newest first, without their text.
func Versions(ctx context.Context, q db.Querier, doc Document) ([]Archived, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, content_hash, published_at, significant, change_note,
		CASE WHEN content_html IS NULL OR content_html = '' THEN 0 ELSE 1 END
		FROM policy_versions WHERE document = $1 ORDER BY seq DESC`, string(doc))
	if err != nil {
		return nil, fmt.Errorf("list %s policy versions: %w", doc, err)
	}
	defer rows.Close()
	var out []Archived
	for rows.Next() {
		a := Archived{Document: doc}
		var kept int
		if err := rows.Scan(&a.Seq, &a.Hash, &a.PublishedAt, &a.Significant, &a.ChangeNote, &kept); err != nil {
			return nil, err
		}
		a.PublishedAt, a.Kept = a.PublishedAt.UTC(), kept == 1
		out = append(out, a)
	}
	return out, rows.Err()
}

// VersionOf reads version seq of doc with its text, or sql.ErrNoRows.
func VersionOf(ctx context.Context, q db.Querier, doc Document, seq int) (Archived, error) {
	a := Archived{Document: doc}
	var h, t sql.NullString
	err := q.QueryRowContext(ctx, `SELECT seq, content_hash, published_at, significant, change_note, content_html, content_text
		FROM policy_versions WHERE document = $1 AND seq = $2`, string(doc), seq).
		Scan(&a.Seq, &a.Hash, &a.PublishedAt, &a.Significant, &a.ChangeNote, &h, &t)
	if err != nil {
		if !errors.Is(err, sql.ErrNoRows) {
			err = fmt.Errorf("read %s policy version %d: %w", doc, seq, err)
		}
		return a, err
	}
	a.PublishedAt = a.PublishedAt.UTC()
	a.HTML, a.Text, a.Kept = h.String, t.String, h.Valid && h.String != ""
	return a, nil
}

// ArchivedHTML is the kept HTML of a version for showing it again. It was
// rendered by our own templates from escaped data and sanitised Markdown;
// it passes a sanitiser once more all the same, so that a row edited by
// hand cannot put script into the archive.
func (a Archived) ArchivedHTML() template.HTML {
	return template.HTML(archiveSanitiser().Sanitize(a.HTML)) // safe: sanitised
}

var archiveSanitiser = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(false)
	p.AllowURLSchemes("https", "http", "mailto")
	p.AllowAttrs("class").Matching(bluemonday.SpaceSeparatedTokens).Globally()
	p.AllowElements("section", "aside", "address", "nav", "article")
	return p
})

// Vendor-written texts.

// MaxText is the most bytes of Markdown a policy's own text holds.
const MaxText = 50_000

// LoadTexts reads the vendor-written Markdown of the two policies.
func LoadTexts(ctx context.Context, q db.Querier) (privacyText, cookieText string, err error) {
	rows, err := q.QueryContext(ctx, `SELECT document, body FROM policy_texts`)
	if err != nil {
		return "", "", fmt.Errorf("read policy texts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc, body string
		if err := rows.Scan(&doc, &body); err != nil {
			return "", "", err
		}
		switch Document(doc) {
		case PrivacyPolicy:
			privacyText = body
		case CookiePolicy:
			cookieText = body
		}
	}
	return privacyText, cookieText, rows.Err()
}

// ErrScript refuses a policy text that would put HTML or script into the
// page: nothing is saved.
var ErrScript = refuse.New(refuse.Invalid, "policy_text_script",
	"The text contains HTML or a script link, which a policy may not hold: nothing was saved. Write Markdown only (headings with #, lists with -, links as [words](https://...)), and try again.")

// CheckText refuses Markdown that is too long, not UTF-8, or holds raw
// HTML or a link to anything but http, https, mailto or a place on this
// site. goldmark leaves raw HTML out and bluemonday cleans what remains,
// so such text could not run; it is refused all the same, so that the
// owner never believes the page shows what it does not.
func CheckText(src string) error {
	if len(src) > MaxText || !utf8.ValidString(src) {
		return refuse.Field("body", fmt.Sprintf("The text is at most %d bytes of UTF-8.", MaxText))
	}
	doc := markdown.Parser().Parse(text.NewReader([]byte(src)))
	var bad bool
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.HTMLBlock, *ast.RawHTML:
			bad = true
		case *ast.Link:
			bad = bad || !safeLink(string(n.Destination))
		case *ast.Image:
			bad = bad || !safeLink(string(n.Destination))
		case *ast.AutoLink:
			bad = bad || !safeLink(string(n.URL([]byte(src))))
		}
		if bad {
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	if bad {
		return ErrScript
	}
	return nil
}

func safeLink(dest string) bool {
	u, err := url.Parse(strings.TrimSpace(dest))
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "", "http", "https", "mailto":
		// A scheme hidden from url.Parse (such as "java\tscript:") is
		// not a relative link.
		return u.Scheme != "" || !strings.Contains(dest, ":") || strings.HasPrefix(dest, "/") || strings.HasPrefix(dest, "#")
	}
	return false
}

// markdown converts vendor Markdown without raw HTML (goldmark's default),
// with GFM tables, strikethrough and autolinks, as internal/notices does.
var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

var textSanitiser = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(false)
	p.AllowURLSchemes("https", "http", "mailto")
	return p
})

// TextHTML renders vendor Markdown as safe HTML for the policy page.
func TextHTML(src string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	return template.HTML(textSanitiser().SanitizeBytes(buf.Bytes())), nil // safe: sanitised above
}

// SaveText stores the vendor's Markdown for doc in tx after CheckText; an
// unchanged text reports changed false. The policy's next publication
// (the site publishes at once, web.Server.PublishPolicies) records the
// new version.
func SaveText(ctx context.Context, tx *sql.Tx, doc Document, body string, staffID int64, now time.Time) (changed bool, err error) {
	if doc != PrivacyPolicy && doc != CookiePolicy {
		return false, refuse.Field("document", "Choose the privacy policy or the cookie policy.")
	}
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	if err := CheckText(body); err != nil {
		return false, err
	}
	var old string
	err = tx.QueryRowContext(ctx, `SELECT body FROM policy_texts WHERE document = $1`, string(doc)).Scan(&old)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("read %s policy text: %w", doc, err)
	}
	if err == nil && old == body {
		return false, nil
	}
	var by any
	if staffID != 0 {
		by = staffID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO policy_texts (document, body, updated_by, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (document) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		string(doc), body, by, now.UTC()); err != nil {
		return false, fmt.Errorf("save %s policy text: %w", doc, err)
	}
	// The public pages are cached by content version (migration 00014);
	// the texts are part of what they show.
	if _, err := tx.ExecContext(ctx, `UPDATE content_version SET n = n + 1 WHERE id = 1`); err != nil {
		return false, fmt.Errorf("save %s policy text: %w", doc, err)
	}
	return true, nil
}

// What customers last saw.

// RecordSeen notes that customer saw version seq of doc (viewed the page
// or dismissed the notice of its change). An older version never replaces
// a newer one.
func RecordSeen(ctx context.Context, q db.Querier, customerID int64, doc Document, seq int, now time.Time) error {
	if customerID == 0 || seq <= 0 {
		return nil
	}
	_, err := q.ExecContext(ctx, `INSERT INTO policy_views (customer_id, document, seq, seen_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (customer_id, document) DO UPDATE SET seq = excluded.seq, seen_at = excluded.seen_at
		WHERE policy_views.seq < excluded.seq`, customerID, string(doc), seq, now.UTC())
	if err != nil {
		return fmt.Errorf("record %s policy seen: %w", doc, err)
	}
	return nil
}

// Seen is the version of a policy a customer last saw; Seq 0 when none
// was recorded.
type Seen struct {
	Seq int
	At  time.Time
}

// LastSeen reads what customer last saw of doc.
func LastSeen(ctx context.Context, q db.Querier, customerID int64, doc Document) (Seen, error) {
	var s Seen
	err := q.QueryRowContext(ctx, `SELECT seq, seen_at FROM policy_views WHERE customer_id = $1 AND document = $2`, customerID, string(doc)).Scan(&s.Seq, &s.At)
	if errors.Is(err, sql.ErrNoRows) {
		return Seen{}, nil
	}
	if err != nil {
		return s, fmt.Errorf("read %s policy seen: %w", doc, err)
	}
	s.At = s.At.UTC()
	return s, nil
}

// NoticePeriod is how long a significant change is announced on the site.
const NoticePeriod = 30 * 24 * time.Hour

// Announced is a significant change being announced now: the version of
// doc, and until when. ok is false when none is.
func Announced(ctx context.Context, q db.Querier, doc Document, now time.Time) (v Version, until time.Time, ok bool, err error) {
	v, err = LatestVersion(ctx, q, doc)
	if errors.Is(err, sql.ErrNoRows) {
		return v, time.Time{}, false, nil
	}
	if err != nil {
		return v, time.Time{}, false, err
	}
	until = v.PublishedAt.Add(NoticePeriod)
	return v, until, v.Significant && now.Before(until), nil
}
