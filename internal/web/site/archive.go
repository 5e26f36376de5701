package site

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/web"
)

// The policy archive (docs/policy-archive.md): the policy pages record
// each version with its text as they render it; /privacy/archive lists the
// versions of both policies, and each version's page shows its text and
// what changed from the version before.

// documents are the two policies: their page, template and names.
var documents = []struct {
	Doc            privacy.Document
	Path, Template string
	Title, Label   string
}{
	{privacy.PrivacyPolicy, "/privacy", "privacy.html", "Privacy policy", "privacy policy"},
	{privacy.CookiePolicy, "/cookies", "cookies.html", "Cookie policy", "cookie policy"},
}

func documentOf(doc privacy.Document) (i int, ok bool) {
	for i, d := range documents {
		if d.Doc == doc {
			return i, true
		}
	}
	return 0, false
}

// publish builds doc's current policy and makes sure its version is
// recorded with its text: the page is rendered once as it will be shown,
// and its <article class="policy-text"> (everything but the "Last
// updated" line and the notice) is what the archive keeps. A version
// recorded before (same content) keeps its date and its text.
func (s *handler) publish(r *http.Request, doc privacy.Document, now time.Time) (policyPage, error) {
	ctx := r.Context()
	p, err := privacy.BuildCurrent(ctx, s.db, s.Inventory(), privacy.Facts{HTTPS: s.HTTPS()})
	if err != nil {
		return policyPage{}, err
	}
	own := p.PrivacyText
	if doc == privacy.CookiePolicy {
		own = p.CookieText
	}
	page := policyPage{Policy: p, Updated: now}
	if page.Own, err = privacy.TextHTML(own); err != nil {
		return policyPage{}, err
	}
	i, _ := documentOf(doc)
	v, err := s.Vendor(r)
	if err != nil {
		return policyPage{}, err
	}
	body, err := s.RenderBytes(r, v, s.pages.Template(documents[i].Template), documents[i].Title, page)
	if err != nil {
		return policyPage{}, err
	}
	text, err := policyText(body)
	if err != nil {
		return policyPage{}, err
	}
	page.Policy.Version, err = privacy.PublishContent(ctx, s.db, doc, p.Hash(doc), privacy.Content{HTML: text, Text: privacy.TextLines(text)}, now)
	page.Updated = page.Policy.Version.PublishedAt
	return page, err
}

// policyText is the inner HTML of a rendered page's policy article.
func policyText(page []byte) (string, error) {
	root, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return "", err
	}
	var article *html.Node
	var find func(n *html.Node)
	find = func(n *html.Node) {
		if article != nil {
			return
		}
		if n.Type == html.ElementNode && n.Data == "article" {
			for _, a := range n.Attr {
				if a.Key == "class" && a.Val == "policy-text" {
					article = n
					return
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(root)
	if article == nil {
		return "", errors.New("the policy page has no <article class=\"policy-text\">")
	}
	var b bytes.Buffer
	for c := article.FirstChild; c != nil; c = c.NextSibling {
		if err := html.Render(&b, c); err != nil {
			return "", err
		}
	}
	return strings.TrimSpace(b.String()), nil
}

// publishAll records the current version of both policies; the console
// calls it (web.Server.PublishPolicies) after an edit of their text, so
// that the edit is a version at once, dated when it was made.
func (s *handler) publishAll(ctx context.Context) error {
	for _, d := range documents {
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, d.Path, nil)
		if err != nil {
			return err
		}
		if _, err := s.publish(r, d.Doc, s.clock.Now()); err != nil {
			return fmt.Errorf("publish %s policy: %w", d.Doc, err)
		}
	}
	return nil
}

// notice is the announcement of a significant change running now, the
// privacy policy's before the cookie policy's. Every rendered page asks
// for it, so it is read again only when the content version moves (the
// page cache's cheap check: policy_versions has a content trigger) or the
// announcement it remembers has ended; no announcement starts without a
// change of policy_versions.
func (s *handler) notice(ctx context.Context, now time.Time) (*web.PolicyNotice, error) {
	version, err := s.cache.current(ctx, s.db, now)
	if err != nil {
		return nil, err
	}
	m := &s.cache.notice
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.known && m.version == version && (m.n == nil || now.Before(m.n.Until)) {
		return m.n, nil
	}
	n, err := s.readNotice(ctx, now)
	if err != nil {
		return nil, err
	}
	m.known, m.version, m.n = true, version, n
	return n, nil
}

// readNotice reads the announcement running at now.
func (s *handler) readNotice(ctx context.Context, now time.Time) (*web.PolicyNotice, error) {
	for _, d := range documents {
		v, until, ok, err := privacy.Announced(ctx, s.db, d.Doc, now)
		if err != nil {
			return nil, err
		}
		if ok {
			return &web.PolicyNotice{Label: d.Label, Href: versionPath(d.Doc, v.Seq), Seq: v.Seq,
				Date: v.PublishedAt, Note: v.ChangeNote, Until: until}, nil
		}
	}
	return nil, nil
}

func versionPath(doc privacy.Document, seq int) string {
	return "/privacy/archive/" + string(doc) + "/" + strconv.Itoa(seq)
}

// recordSeen notes, for a signed-in customer, that they saw version seq
// of doc (0: the latest). It never fails the page it follows: a failure
// is logged.
func (s *handler) recordSeen(r *http.Request, doc privacy.Document, seq int) {
	if _, ok := s.CustomerCookie(r); !ok {
		return
	}
	ctx := r.Context()
	err := func() error {
		c, err := s.CurrentCustomer(r)
		if err != nil || c == nil {
			return err
		}
		latest, err := privacy.LatestVersion(ctx, s.db, doc)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if seq != 0 && seq != latest.Seq {
			return nil // an older version read in the archive is not the policy in force
		}
		// Keeping this record is processing for the purpose "policies":
		// an objection to it or a restriction stops it.
		ch, err := privacy.LoadChoices(ctx, s.db, c.ID)
		if err != nil {
			return err
		}
		if _, objected := ch.Objections["policies"]; objected || ch.Restricted {
			return nil
		}
		return privacy.RecordSeen(ctx, s.db, c.ID, doc, latest.Seq, s.clock.Now())
	}()
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "record policy seen", slog.String("document", string(doc)), slog.String("error", err.Error()))
	}
}

// archivePage is the content of archive.html.
type archivePage struct {
	Documents []archivedDocument
}

type archivedDocument struct {
	Title, Path string
	Doc         privacy.Document
	Versions    []privacy.Archived
}

func (s *handler) archive(w http.ResponseWriter, r *http.Request) error {
	return s.serveCached(w, r, "archive", func() (rendered, bool, error) {
		var page archivePage
		for _, d := range documents {
			vs, err := privacy.Versions(r.Context(), s.db, d.Doc)
			if err != nil {
				return rendered{}, false, err
			}
			page.Documents = append(page.Documents, archivedDocument{Title: d.Title, Path: d.Path, Doc: d.Doc, Versions: vs})
		}
		return rendered{name: "archive.html", title: "Policy archive", page: page}, true, nil
	})
}

// versionPage is the content of archive_version.html.
type versionPage struct {
	Title, Path string
	Version     privacy.Archived
	// Previous is the version before, Seq 0 when this is the first;
	// Latest the newest version's number.
	Previous privacy.Archived
	Latest   int
	// Compared is true when both texts are kept, so Hunks are the
	// changes; Unchanged when they are and nothing changed in the text
	// (a change the page's wording does not show, such as a fact it
	// states the same way).
	Compared, Unchanged bool
	Hunks               []privacy.Hunk
}

func (s *handler) archivedVersion(w http.ResponseWriter, r *http.Request) error {
	doc := privacy.Document(r.PathValue("doc"))
	i, ok := documentOf(doc)
	seq, err := strconv.Atoi(r.PathValue("seq"))
	if !ok || err != nil || seq <= 0 {
		return web.NotFound("There is no such policy version. The archive lists every version: /privacy/archive")
	}
	defer s.recordSeen(r, doc, seq)
	return s.serveCached(w, r, "archive/"+string(doc)+"/"+strconv.Itoa(seq), func() (rendered, bool, error) {
		ctx := r.Context()
		v, err := privacy.VersionOf(ctx, s.db, doc, seq)
		if errors.Is(err, sql.ErrNoRows) {
			return rendered{}, false, web.NotFound("There is no such policy version. The archive lists every version: /privacy/archive")
		}
		if err != nil {
			return rendered{}, false, err
		}
		page := versionPage{Title: documents[i].Title, Path: documents[i].Path, Version: v}
		if latest, err := privacy.LatestVersion(ctx, s.db, doc); err == nil {
			page.Latest = latest.Seq
		}
		if seq > 1 {
			if page.Previous, err = privacy.VersionOf(ctx, s.db, doc, seq-1); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return rendered{}, false, err
			}
		}
		if v.Kept && page.Previous.Kept {
			page.Compared = true
			page.Hunks = privacy.Hunks(privacy.Diff(page.Previous.Text, v.Text), 2)
			page.Unchanged = len(page.Hunks) == 0
		}
		return rendered{name: "archive_version.html", title: fmt.Sprintf("%s, version %d", documents[i].Title, seq), page: page}, true, nil
	})
}

// Template helpers of the archive.
var archiveFuncs = template.FuncMap{
	"versionPath": func(doc privacy.Document, seq int) string { return versionPath(doc, seq) },
	"add1":        func(n int) int { return n + 1 },
	"diffClass": func(op privacy.Op) string {
		switch op {
		case privacy.Added:
			return "added"
		case privacy.Removed:
			return "removed"
		}
		return "same"
	},
}
