package site

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/privacy"
)

// noticePeriod is how long a significant change to a policy is announced
// at the top of the page.
const noticePeriod = privacy.NoticePeriod

// policyPage is the content of privacy.html and cookies.html.
type policyPage struct {
	Policy privacy.Policy
	// Updated is the "Last updated" date: when the text last changed.
	Updated time.Time
	// Notice is true while a significant change is recent enough to be
	// announced prominently.
	Notice bool
	// Own is the vendor-written part of the policy, rendered from its
	// sanitised Markdown (archive.go).
	Own template.HTML
}

// privacyPolicy renders the privacy policy. Its content is derived from
// the data inventory and the vendor's settings, so it says what the code
// does; privacy.CurrentOf records a new version, with a new date, exactly
// when that content changes.
func (s *handler) privacyPolicy(w http.ResponseWriter, r *http.Request) error {
	defer s.recordSeen(r, privacy.PrivacyPolicy, 0)
	return s.serveCached(w, r, "privacy", func() (rendered, bool, error) {
		page, until, err := s.policy(r, privacy.PrivacyPolicy)
		return rendered{name: "privacy.html", title: "Privacy policy", page: page, until: until}, true, err
	})
}

// cookiePolicy renders the cookie policy.
func (s *handler) cookiePolicy(w http.ResponseWriter, r *http.Request) error {
	defer s.recordSeen(r, privacy.CookiePolicy, 0)
	return s.serveCached(w, r, "cookies", func() (rendered, bool, error) {
		page, until, err := s.policy(r, privacy.CookiePolicy)
		return rendered{name: "cookies.html", title: "Cookie policy", page: page, until: until}, true, err
	})
}

// policy builds a policy page, and says until when it holds: the notice of
// a significant change ends noticePeriod after it was published.
func (s *handler) policy(r *http.Request, doc privacy.Document) (policyPage, time.Time, error) {
	now := s.clock.Now()
	// Facts are claims the policy may only make when they hold for this
	// deployment, such as encrypted connections.
	page, err := s.publish(r, doc, now)
	if err != nil {
		return policyPage{}, time.Time{}, fmt.Errorf("%s policy: %w", doc, err)
	}
	v := page.Policy.Version
	page.Notice = v.Significant && now.Sub(v.PublishedAt) < noticePeriod
	var until time.Time
	if page.Notice {
		until = v.PublishedAt.Add(noticePeriod)
	}
	return page, until, nil
}

// Template helpers that put the inventory's terms into sentences.

var subjectWords = map[privacy.Subject]string{
	privacy.Customer: "Customers",
	privacy.Visitor:  "Visitors to this website",
	privacy.Staff:    "Our staff",
}

// subjects names whose data an item is, such as "Customers".
func subjects(ss []privacy.Subject) []string {
	words := make([]string, len(ss))
	for i, s := range ss {
		if w, ok := subjectWords[s]; ok {
			words[i] = w
		} else {
			words[i] = capitalize(string(s))
		}
	}
	return words
}

// sources says where an item comes from, such as "Provided by you".
func sources(ss []privacy.Source) []string {
	words := make([]string, len(ss))
	for i, s := range ss {
		words[i] = capitalize(string(s))
	}
	return words
}

// sentence turns a phrase of the inventory ("answering the questions you
// send us") into a sentence ("Answering the questions you send us.").
func sentence(s string) string {
	s = capitalize(strings.TrimSpace(s))
	if s != "" && !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
