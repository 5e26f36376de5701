package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/lists"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/web"
)

// limitExport caps downloads: each builds the whole export.
var limitExport = ratelimit.Limit{Max: 10, Window: 24 * time.Hour}

// privacyPage is the content of privacy.html.
type privacyPage struct {
	Notice     string
	Customer   customers.Customer
	Export     privacy.Export
	Choices    privacy.Choices
	Objectable []privacy.PurposeUse
	Consents   []privacy.Purpose
	// Lists are the customer's mailing-list subscriptions in force.
	Lists []lists.Membership
	// HasDocuments: the customer has invoices worth saving before erasure.
	HasDocuments bool
	// Policies are the versions of the policies they last saw (policies.go).
	Policies []policyStatus
}

var privacyNotices = map[string]string{
	"choices":             "Your choice is saved and applies from now on.",
	"unsubscribed":        "You are unsubscribed from that list.",
	"policy-seen":         "Noted: you have seen the version in force.",
	"policy-not-recorded": "Nothing was recorded: you objected to our keeping track of policy changes for you, or restricted what we do with your data.",
}

func (s *handler) subjectOf(c *customers.Customer) privacy.SubjectRef {
	return privacy.SubjectRef{Kind: privacy.Customer, ID: c.ID, Email: c.Email}
}

func (s *handler) collect(r *http.Request, c *customers.Customer) (privacy.Export, error) {
	v, err := s.Vendor(r)
	if err != nil {
		return privacy.Export{}, err
	}
	return privacy.Collect(r.Context(), s.db, privacy.Declared, v, s.subjectOf(c), s.clock.Now())
}

func (s *handler) privacyCenter(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	ctx := r.Context()
	e, err := s.collect(r, c)
	if err != nil {
		return err
	}
	ch, err := privacy.LoadChoices(ctx, s.db, c.ID)
	if err != nil {
		return err
	}
	page := privacyPage{Notice: privacyNotices[r.URL.Query().Get("done")], Customer: *c, Export: e, Choices: ch}
	if page.Lists, err = lists.OfCustomer(ctx, s.db, c.ID); err != nil {
		return err
	}
	if page.Policies, err = s.policyStatuses(ctx, c.ID); err != nil {
		return err
	}
	// The choices offered are those of the purposes the policy names: what
	// the code does (a purpose is named once a table declares it). Fraud
	// review exists (issue 16, internal/fraud): its objection is offered,
	// recorded, and shown on every case about the customer to be weighed
	// by the person who decides.
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	for _, u := range privacy.Build(privacy.Declared, v, privacy.Facts{HTTPS: s.HTTPS()}).Purposes {
		switch {
		case u.Basis == privacy.Consent && u.ID == lists.Purpose:
			// Newsletters are given by subscribing to a list, with the
			// mailed confirmation (double opt-in), and withdrawn per list
			// below; a consent recorded without a list can be withdrawn.
			if _, given := ch.Consents[u.ID]; given && len(page.Lists) == 0 {
				page.Consents = append(page.Consents, u.Purpose)
			}
		case u.Basis == privacy.Consent:
			page.Consents = append(page.Consents, u.Purpose)
		case u.Basis == privacy.LegitimateInterest && u.Overriding == "":
			page.Objectable = append(page.Objectable, u)
		}
	}
	for _, t := range e.Tables {
		if t.Name == "invoices" && len(t.Rows) > 0 {
			page.HasDocuments = true
		}
	}
	return s.render(w, r, http.StatusOK, "privacy.html", "Your privacy", page)
}

// privacyExport sends the portability archive.
func (s *handler) privacyExport(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	if ok, err := s.Allow(r, s.Bucket(limitExport, "privacy-export", strconv.FormatInt(c.ID, 10))); err != nil {
		return err
	} else if !ok {
		return &web.Error{Status: http.StatusTooManyRequests, Message: "You have downloaded your data many times today. Please try again tomorrow."}
	}
	e, err := s.collect(r, c)
	if err != nil {
		return err
	}
	if err := s.customerAudit(r.Context(), r, c.ID, "privacy.exported", fmt.Sprintf("%d rows", e.Rows())); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="my-data-`+s.clock.Now().Format("2006-01-02")+`.zip"`)
	return e.WriteZIP(w)
}

// customerAudit records an action the customer took about their data.
func (s *handler) customerAudit(ctx context.Context, r *http.Request, customerID int64, action, detail string) error {
	return s.AuditAlone(r, audit.Entry{ActorType: audit.ActorCustomer, ActorID: customerID,
		Action: action, SubjectType: "customer", SubjectID: web.Itoa(customerID), Detail: detail})
}

// privacyChoices saves one choice: restriction on or off, an objection,
// or a consent given or withdrawn.
func (s *handler) privacyChoices(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	choice, purpose, on := r.PostForm.Get("choice"), r.PostForm.Get("purpose"), r.PostForm.Get("on") == "1"
	if err := s.saveChoice(r, c.ID, choice, purpose, on, "privacy center"); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/privacy?done=choices#choices", http.StatusSeeOther)
	return nil
}

func (s *handler) saveChoice(r *http.Request, customerID int64, choice, purpose string, on bool, via string) error {
	ctx := r.Context()
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := privacy.SetChoice(ctx, tx, privacy.Declared, customerID, choice, purpose, on, via, s.clock.Now()); err != nil {
			return err
		}
		// The lists rest on this consent: withdrawn, they end with it.
		if choice == privacy.ChoiceConsent && purpose == lists.Purpose && !on {
			if err := lists.Withdrawn(ctx, tx, customerID, s.clock.Now()); err != nil {
				return err
			}
		}
		return s.Audit(ctx, tx, r, audit.Entry{ActorType: audit.ActorCustomer, ActorID: customerID,
			Action: "privacy." + choice, SubjectType: "customer", SubjectID: web.Itoa(customerID),
			Detail: fmt.Sprintf("%s %v via %s", purpose, on, via)})
	})
	if errors.Is(err, privacy.ErrNotAChoice) {
		return web.BadRequest("That choice does not exist. Reload the privacy page and try again.")
	}
	return err
}

// erasedPage is the content of privacy_erased.html.
type erasedPage struct {
	Report     privacy.ErasureReport
	Kept       []privacy.ErasureStep
	Removed    []privacy.ErasureStep
	Processors []string // processor references that could not be deleted automatically
}

// privacyErase erases the signed-in customer's data after confirmation and
// says exactly what was kept, why and until when.
func (s *handler) privacyErase(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	if r.PostForm.Get("confirm") != "yes" || !strings.EqualFold(strings.TrimSpace(r.PostForm.Get("email")), c.Email) {
		return &web.Error{Status: http.StatusUnprocessableEntity, Message: "To erase your account, tick the box and type your email address exactly as it is on the privacy page. Nothing was changed."}
	}
	ctx, now := r.Context(), s.clock.Now()
	rep, err := privacy.Erase(ctx, s.db, privacy.Declared, privacy.EraseRequest{Subject: s.subjectOf(c),
		By: audit.Entry{Detail: "privacy center"}.By(audit.Customer(c.ID).From(web.Network(r)))},
		s.processors, now)
	if err != nil {
		return err
	}
	page := erasedPage{Report: rep, Kept: rep.Kept(), Removed: rep.Removed()}
	// Names only: a processor's reference means nothing to the person.
	for _, p := range rep.ProcessorsLeft() {
		if !slices.Contains(page.Processors, p.Name) {
			page.Processors = append(page.Processors, p.Name)
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "erasure: processor not told", slog.String("processor", p.Recipient))
	}
	for _, rc := range rep.AskRecipients {
		if !slices.Contains(page.Processors, rc.Name) {
			page.Processors = append(page.Processors, rc.Name)
		}
	}
	s.ClearCustomerCookie(w)
	return s.render(w, r, http.StatusOK, "privacy_erased.html", "Your account is erased", page)
}

// privacyLeaveList ends one of the customer's list subscriptions: as
// easy as giving the consent was, one button.
func (s *handler) privacyLeaveList(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	out, err := lists.Leave(r.Context(), s.db, c.ID, id, s.clock.Now())
	if err != nil {
		return err
	}
	if !out.Already {
		if err := s.customerAudit(r.Context(), r, c.ID, "privacy.unsubscribed", lists.Purpose+" via account: "+out.What); err != nil {
			return err
		}
	}
	http.Redirect(w, r, "/account/privacy?done=unsubscribed#lists", http.StatusSeeOther)
	return nil
}
