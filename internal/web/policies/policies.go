package policies

import (
	"database/sql"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/input"
	noticemail "github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/web"
)

// The policies page (docs/policy-archive.md): owners write the parts of
// the privacy and cookie policies that are theirs to write (Markdown; the
// rest comes from the data inventory), mark a version as a significant
// change, and choose whether customers are mailed about it.

var policyNotices = web.Notices{
	"text":      "The text is saved, and the policy has a new version, dated now, in the archive.",
	"unchanged": "Nothing changed: the text was already so.",
	"marked":    "The latest version is marked as a significant change: every page of the site announces it for 30 days.",
	"mailed":    "The latest version is marked as a significant change, and the mail to customers is queued: it goes out at the notices' rate.",
}

// policiesPage is the content of policies.html.
type policiesPage struct {
	Notice, Error string
	// ErrorDoc is the document whose form was refused.
	ErrorDoc privacy.Document
	Docs     []policyDoc
}

type policyDoc struct {
	Doc         privacy.Document
	Title, Path string
	// Text is the stored Markdown, or what was typed when refused.
	Text      string
	Latest    privacy.Version
	Published bool
	Announced bool
	Until     time.Time
	Mailing   noticemail.PolicyMailing
	Mailed    bool
}

var policyDocs = []struct {
	doc         privacy.Document
	title, path string
}{
	{privacy.PrivacyPolicy, "Privacy policy", "/privacy"},
	{privacy.CookiePolicy, "Cookie policy", "/cookies"},
}

func (s *handler) staffPolicies(w http.ResponseWriter, r *http.Request) error {
	return s.renderPolicies(w, r, http.StatusOK, policiesPage{Notice: policyNotices.For(r)}, "")
}

// renderPolicies shows the page; typed, when set, is the text refused for
// page.ErrorDoc, shown again for correction.
func (s *handler) renderPolicies(w http.ResponseWriter, r *http.Request, status int, page policiesPage, typed string) error {
	ctx, now := r.Context(), s.clock.Now()
	texts := map[privacy.Document]string{}
	var err error
	if texts[privacy.PrivacyPolicy], texts[privacy.CookiePolicy], err = privacy.LoadTexts(ctx, s.db); err != nil {
		return err
	}
	for _, d := range policyDocs {
		pd := policyDoc{Doc: d.doc, Title: d.title, Path: d.path, Text: texts[d.doc]}
		if page.Error != "" && page.ErrorDoc == d.doc {
			pd.Text = typed
		}
		pd.Latest, err = privacy.LatestVersion(ctx, s.db, d.doc)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			pd.Published = true
			if _, pd.Until, pd.Announced, err = privacy.Announced(ctx, s.db, d.doc, now); err != nil {
				return err
			}
			if pd.Mailing, pd.Mailed, err = noticemail.PolicyMailingOf(ctx, s.db, d.doc, pd.Latest.Seq); err != nil {
				return err
			}
		}
		page.Docs = append(page.Docs, pd)
	}
	return s.render(w, r, status, "policies.html", "Policies", page)
}

func policyDocument(r *http.Request) (privacy.Document, error) {
	doc := privacy.Document(r.PathValue("doc"))
	if doc != privacy.PrivacyPolicy && doc != privacy.CookiePolicy {
		return "", web.NotFound("There is no such policy: the console edits the privacy policy and the cookie policy.")
	}
	return doc, nil
}

// staffPolicyText saves the vendor's Markdown of a policy. Text with HTML
// or a script link is refused and nothing changes; a saved change is
// published at once, so it is a version of its own, dated now.
func (s *handler) staffPolicyText(w http.ResponseWriter, r *http.Request) error {
	doc, err := policyDocument(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	body := r.PostForm.Get("body")
	ctx, now := r.Context(), s.clock.Now()
	var changed bool
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if changed, err = privacy.SaveText(ctx, tx, doc, body, staffID(r), now); err != nil || !changed {
			return err
		}
		return s.Audit(ctx, tx, r, audit.Entry{Action: "policy.text_changed", SubjectType: "policy", SubjectID: string(doc),
			Detail: strconv.Itoa(len(body)) + " bytes of Markdown"})
	})
	if rf, ok := refuse.As(err); ok {
		return s.renderPolicies(w, r, http.StatusUnprocessableEntity, policiesPage{Error: rf.Msg, ErrorDoc: doc}, body)
	}
	if err != nil {
		return err
	}
	done := "unchanged"
	if changed {
		if err := s.PublishPolicies(ctx); err != nil {
			return err
		}
		done = "text"
	}
	http.Redirect(w, r, "/staff/policies?done="+done, http.StatusSeeOther)
	return nil
}

// staffPolicySignificant marks the latest version of a policy as a
// significant change and, when the owner chooses, queues the mail about it
// to customers; both happen together or not at all.
func (s *handler) staffPolicySignificant(w http.ResponseWriter, r *http.Request) error {
	doc, err := policyDocument(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	note, err := input.Spec{Field: "note", Label: "The description of the change", Max: 500, Required: true,
		Missing: "Describe the change in a sentence (at most 500 characters); the notice shows it to visitors and the mail to customers."}.Clean(r.PostForm.Get("note"))
	if rf, ok := refuse.As(err); ok {
		return s.renderPolicies(w, r, http.StatusUnprocessableEntity, policiesPage{Error: rf.Msg, ErrorDoc: doc}, "")
	}
	if err != nil {
		return err
	}
	mailIt := r.PostForm.Get("mail") == "on"
	ctx, now := r.Context(), s.clock.Now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		seq, err := privacy.MarkSignificant(ctx, tx, doc, note)
		if err != nil {
			return err
		}
		subject := string(doc) + "/" + strconv.Itoa(seq)
		if err := s.Audit(ctx, tx, r, audit.Entry{Action: "policy.significant_change", SubjectType: "policy", SubjectID: subject, Detail: note}); err != nil {
			return err
		}
		if !mailIt {
			return nil
		}
		n, err := noticemail.StartPolicyMail(ctx, tx, audit.Staff(staffID(r)), doc, seq, now)
		if err != nil {
			return err
		}
		return s.Audit(ctx, tx, r, audit.Entry{Action: "policy.mailed", SubjectType: "policy", SubjectID: subject,
			Detail: strconv.FormatInt(n, 10) + " customers queued"})
	})
	if errors.Is(err, sql.ErrNoRows) {
		return &web.Error{Status: http.StatusConflict, Message: "This policy has not been published yet. Open its page once, then try again."}
	}
	if rf, ok := refuse.As(err); ok {
		return s.renderPolicies(w, r, http.StatusConflict, policiesPage{Error: rf.Msg, ErrorDoc: doc}, "")
	}
	if err != nil {
		return err
	}
	done := "marked"
	if mailIt {
		done = "mailed"
	}
	http.Redirect(w, r, "/staff/policies?done="+done, http.StatusSeeOther)
	return nil
}

// staffID is the signed-in member's account.
func staffID(r *http.Request) int64 {
	if sess := web.StaffSession(r); sess != nil {
		return sess.Account.ID
	}
	return 0
}
