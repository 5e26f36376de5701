package privacy

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/settings"
)

// Facts are things about the running deployment that the policy may only
// claim when they are true.
type Facts struct {
	// HTTPS is true when the site's base URL is https.
	HTTPS bool
}

// Item is one kind of personal data as the policy lists it.
type Item struct {
	Category   Category
	Label      string
	Subjects   []Subject
	Sources    []Source
	Purposes   []string // purpose names
	Bases      []string // legal bases in words
	Retention  []string // retention rules in words
	Recipients []string // recipient names
}

// Group is a heading of the "what we collect" section.
type Group struct {
	Heading string
	Items   []Item
}

// PurposeUse is a purpose the policy lists, with the data used for it.
type PurposeUse struct {
	Purpose
	BasisLabel string
	Data       []string // category labels
}

// RecipientUse is a recipient the policy lists.
type RecipientUse struct {
	Recipient
	Data []string // category labels; empty means everything we store
}

// Policy is the content of the privacy policy and cookie policy pages,
// derived from the inventory, the vendor's settings and the deployment.
type Policy struct {
	Vendor     settings.Vendor
	Facts      Facts
	Groups     []Group
	Purposes   []PurposeUse
	Recipients []RecipientUse
	Cookies    []Cookie
	// Objectable lists the purposes based on legitimate interests, to which
	// a person may object.
	Objectable []PurposeUse
	// ContractData lists the kinds of data we need to enter into or carry
	// out a contract (a purchase, support): without them we cannot.
	ContractData []string
	// PrivacyText and CookieText are the parts of the two policies the
	// vendor writes, Markdown (policy_texts; policy_archive.go).
	PrivacyText string `json:",omitempty"`
	CookieText  string `json:",omitempty"`
	// Version is the history entry of this content (set by Publish).
	Version Version `json:"-"`
}

// Build derives the policy content from inv, v and f. It is a pure
// function: the same inputs give the same policy.
func Build(inv Inventory, v settings.Vendor, f Facts) Policy {
	return build(inv, v, f, publicSubject)
}

// build derives the policy content for the data of the subjects include
// accepts.
func build(inv Inventory, v settings.Vendor, f Facts, include func(Subject) bool) Policy {
	p := Policy{Vendor: v, Facts: f, Cookies: inv.ActiveCookies()}
	asksConsent := inv.AsksConsent()
	items := map[Category]*Item{}
	purposeData := map[string][]string{}
	recipData := map[string][]string{}
	addUse := func(c Category, subject Subject, src Source, purposes []string, ret Retention, recips []string, context string) {
		it := items[c]
		if it == nil {
			it = &Item{Category: c, Label: c.Label()}
			items[c] = it
		}
		it.Subjects = appendNew(it.Subjects, subject)
		it.Sources = appendNew(it.Sources, src)
		it.Retention = appendNew(it.Retention, ret.Describe()+" ("+context+")")
		for _, id := range purposes {
			pu, _ := inv.Purpose(id)
			if pu.Basis == Contract {
				p.ContractData = appendNew(p.ContractData, c.Label())
			}
			it.Purposes = appendNew(it.Purposes, pu.Name)
			it.Bases = appendNew(it.Bases, pu.Basis.Label())
			purposeData[id] = appendNew(purposeData[id], c.Label())
		}
		for _, id := range recips {
			r, _ := inv.Recipient(id)
			it.Recipients = appendNew(it.Recipients, vendorRecipient(r, v).Name)
			recipData[id] = appendNew(recipData[id], c.Label())
		}
	}
	var allStored []string
	for _, r := range inv.Recipients {
		if r.AllStored {
			allStored = append(allStored, r.ID)
		}
	}
	for _, t := range inv.Tables {
		if t.OnlyWithOptionalCookies && !asksConsent {
			continue // never written: nothing asks for consent
		}
		for _, kind := range t.SubjectKinds() {
			if !include(kind) {
				continue
			}
			for _, c := range t.Columns {
				if c.Personal && c.of(kind) {
					addUse(c.Category, kind, c.Source, c.Purposes, c.Retention, append(slices.Clone(c.Recipients), allStored...), phrase(t.Description))
				}
			}
		}
	}
	for _, a := range inv.Activities {
		if !include(a.Subject) {
			continue
		}
		for _, c := range a.Categories {
			addUse(c, a.Subject, a.Source, a.Purposes, a.Retention, a.Recipients, phrase(a.Name))
		}
	}

	byGroup := map[string][]Item{}
	for _, it := range items {
		byGroup[it.Category.Group()] = append(byGroup[it.Category.Group()], *it)
	}
	for h, its := range byGroup {
		sort.Slice(its, func(i, j int) bool { return its[i].Category < its[j].Category })
		p.Groups = append(p.Groups, Group{Heading: h, Items: its})
	}
	sort.Slice(p.Groups, func(i, j int) bool { return p.Groups[i].Items[0].Category < p.Groups[j].Items[0].Category })

	for _, pu := range inv.Purposes {
		data, used := purposeData[pu.ID]
		if !used {
			continue // the policy names only what the code does
		}
		use := PurposeUse{Purpose: pu, BasisLabel: pu.Basis.Label(), Data: data}
		p.Purposes = append(p.Purposes, use)
		if pu.Basis == LegitimateInterest {
			p.Objectable = append(p.Objectable, use)
		}
	}
	for _, r := range inv.Recipients {
		if data, used := recipData[r.ID]; used {
			p.Recipients = append(p.Recipients, RecipientUse{Recipient: vendorRecipient(r, v), Data: data})
		}
	}
	return p
}

// phrase turns a declaration's description into a parenthetical phrase:
// lower-case start, no final full stop.
func phrase(s string) string {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// publicSubject reports whether the public policy speaks to subject. Staff
// data is processed under the vendor's staff privacy notice; it appears in
// the records of processing (storekeep privacy inventory), not on /privacy.
func publicSubject(s Subject) bool { return s != Staff }

// vendorRecipient fills in a recipient the vendor chooses from the settings.
func vendorRecipient(r Recipient, v settings.Vendor) Recipient {
	if r.Setting == "hosting" {
		if v.HostingProvider != "" {
			r.Name = v.HostingProvider
		}
		if v.HostingLocation != "" {
			r.Location = v.HostingLocation
		}
		r.Transfer = v.HostingTransfer
	}
	if r.Setting == "mail" {
		if v.MailProvider != "" {
			r.Name = v.MailProvider
		}
		if v.MailLocation != "" {
			r.Location = v.MailLocation
		}
		r.Transfer = v.MailTransfer
	}
	return r
}

func appendNew[T comparable](s []T, v T) []T {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// Document names a published policy text.
type Document string

// The two policy documents.
const (
	PrivacyPolicy Document = "privacy"
	CookiePolicy  Document = "cookies"
)

// Hash is a fingerprint of the content of document doc of p: it changes
// exactly when what the page says changes.
func (p Policy) Hash(doc Document) string {
	privacyOnly := p
	privacyOnly.CookieText = ""
	var content any = privacyOnly
	if doc == CookiePolicy {
		content = struct {
			Vendor  settings.Vendor
			Cookies []Cookie
			Text    string `json:",omitempty"`
		}{p.Vendor, p.Cookies, p.CookieText}
	}
	b, err := json.Marshal(content)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Version is one entry in the history of a policy document.
type Version struct {
	Seq         int
	Hash        string
	PublishedAt time.Time
	Significant bool
	ChangeNote  string
}

// Publish makes sure the current content of doc is recorded: when its hash
// differs from the latest version, a new version dated now is added. The
// "Last updated" date shown on the page is that version's date, so it moves
// with every change of the text and never otherwise. Two instances that
// publish the same change at once record it once.
func Publish(ctx context.Context, d *db.DB, doc Document, hash string, now time.Time) (Version, error) {
	return publish(ctx, d, doc, hash, Content{}, now)
}

// publish is Publish recording c as a new version's text (PublishContent).
func publish(ctx context.Context, d *db.DB, doc Document, hash string, c Content, now time.Time) (Version, error) {
	latest, err := LatestVersion(ctx, d, doc)
	if err == nil && latest.Hash == hash {
		return latest, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Version{}, err
	}
	// The text comes with the version when a page publishes it
	// (PublishContent); otherwise '' says it is still to come, to be
	// filled in by the first page that shows it. NULL is a version from
	// before the archive.
	_, err = d.ExecContext(ctx, `INSERT INTO policy_versions (document, seq, content_hash, published_at, significant, change_note, content_html, content_text)
		VALUES ($1, $2, $3, $4, FALSE, '', $5, $6) ON CONFLICT (document, seq) DO NOTHING`,
		string(doc), latest.Seq+1, hash, now, c.HTML, c.Text)
	if err != nil {
		return Version{}, fmt.Errorf("record %s policy version: %w", doc, err)
	}
	return LatestVersion(ctx, d, doc)
}

// LatestVersion returns the newest version of doc, or sql.ErrNoRows.
func LatestVersion(ctx context.Context, q db.Querier, doc Document) (Version, error) {
	var v Version
	err := q.QueryRowContext(ctx, `SELECT seq, content_hash, published_at, significant, change_note
		FROM policy_versions WHERE document = $1 ORDER BY seq DESC LIMIT 1`, string(doc)).
		Scan(&v.Seq, &v.Hash, &v.PublishedAt, &v.Significant, &v.ChangeNote)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("read %s policy version: %w", doc, err)
	}
	return v, err
}

// Current builds the policy for the stored vendor settings and publishes
// the given document's version, ready to render.
func Current(ctx context.Context, d *db.DB, doc Document, f Facts, now time.Time) (Policy, error) {
	return CurrentOf(ctx, d, Declared, doc, f, now)
}

// CurrentOf is Current for the inventory inv: the site's active one, which
// holds the cookies a deployment adds (Inventory.WithCookies).
func CurrentOf(ctx context.Context, d *db.DB, inv Inventory, doc Document, f Facts, now time.Time) (Policy, error) {
	p, err := BuildCurrent(ctx, d, inv, f)
	if err != nil {
		return Policy{}, err
	}
	p.Version, err = Publish(ctx, d, doc, p.Hash(doc), now)
	return p, err
}

// MarkSignificant flags the latest version of doc as a significant change
// with a note for readers, and returns its sequence number, or
// sql.ErrNoRows when doc was never published.
func MarkSignificant(ctx context.Context, tx *sql.Tx, doc Document, note string) (int, error) {
	var seq int
	err := tx.QueryRowContext(ctx, `UPDATE policy_versions SET significant = TRUE, change_note = $1
		WHERE document = $2 AND seq = (SELECT max(seq) FROM policy_versions WHERE document = $2) RETURNING seq`,
		note, string(doc)).Scan(&seq)
	return seq, err
}
