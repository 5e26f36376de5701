package requests

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
)

// Extend moves the deadline of a request in progress by months (one or
// two) and mails the reason and the new date to the requester in the same
// transaction. Art. 12(3) allows it once, within the first month.
func Extend(ctx context.Context, d *db.DB, id int64, months int, reason string, by Actor, now time.Time) (Request, error) {
	if months < 1 || months > MaxExtensionMonths {
		return Request{}, refusal(codeInvalid, fmt.Sprintf("An extension is one or %d months.", MaxExtensionMonths))
	}
	reason, err := checkReason(reason, "Give the reason for the extension (for example the complexity of the request or the number of requests): it is sent to the requester.")
	if err != nil {
		return Request{}, err
	}
	return step(ctx, d, id, "extend", by, now, func(tx *sql.Tx, r Request) (result, error) {
		if err := r.CanExtend(now); err != nil {
			return result{}, err
		}
		newDue := AddMonths(r.ReceivedAt, 1+months)
		if err := move(ctx, tx, r, Extended, now, `UPDATE privacy_requests SET extended_due_at = $1, extension_reason = $2 WHERE id = $3`, newDue, reason); err != nil {
			return result{}, err
		}
		v, err := vendor(ctx, tx)
		if err != nil {
			return result{}, err
		}
		err = queue(ctx, tx, "request_extended", r.Email, r, "privacy-request-extended:"+itoa(r.ID), ExtendedMail{
			SiteName: v.Name, Number: r.ID, Wish: r.Kind.Wish(), Received: dateText(r.ReceivedAt), Due: dateText(r.DueAt),
			NewDue: dateText(newDue), Reason: reason, PrivacyEmail: v.PrivacyEmail}, now)
		if err != nil {
			return result{}, err
		}
		return result{to: Extended, note: fmt.Sprintf("deadline extended by %d month(s) to %s; reason sent to the requester: %s", months, dateText(newDue), reason),
			detail: fmt.Sprintf("extended by %d month(s)", months)}, nil
	})
}

// Refuse closes an open request without doing it, and mails the reasons
// and the right to complain to a data protection authority and to seek a
// judicial remedy (Art. 12(4)) in the same transaction.
func Refuse(ctx context.Context, d *db.DB, id int64, reason string, by Actor, now time.Time) (Request, error) {
	reason, err := checkReason(reason, "Give the reasons for the refusal: they are sent to the requester, who may complain about them to a data protection authority.")
	if err != nil {
		return Request{}, err
	}
	return step(ctx, d, id, "refuse", by, now, func(tx *sql.Tx, r Request) (result, error) {
		if r.State.Closed() {
			return result{}, refusal(codeState, "This request is "+r.State.Label()+" already.")
		}
		if err := move(ctx, tx, r, Refused, now, `UPDATE privacy_requests SET refusal_reason = $1, completed_at = $2, code_hash = NULL WHERE id = $3`,
			reason, now.UTC()); err != nil {
			return result{}, err
		}
		v, err := vendor(ctx, tx)
		if err != nil {
			return result{}, err
		}
		err = queue(ctx, tx, "request_refused", r.Email, r, "privacy-request-refused:"+itoa(r.ID), RefusedMail{
			SiteName: v.Name, LegalName: v.LegalName, Number: r.ID, Wish: r.Kind.Wish(), Received: dateText(r.ReceivedAt),
			Reason: reason, Country: v.Country, PrivacyEmail: v.PrivacyEmail}, now)
		if err != nil {
			return result{}, err
		}
		return result{to: Refused, note: "refused; reasons sent to the requester with their right to complain: " + reason}, nil
	})
}

// Completion is what staff give when completing a request.
type Completion struct {
	// Note says what staff did. Required for rectification, restriction,
	// objection and withdrawal, whose work is done by hand and recorded
	// here; optional for the others, whose work Complete does.
	Note string
	// PrivacyPageURL is the customer privacy center
	// (BASE_URL/account/privacy), where the requester of an access or
	// portability request signs in and downloads their data. Required for
	// those kinds.
	PrivacyPageURL string
	// Processors are the configured processors (by recipient ID) that
	// erasure asks to delete their records of the person.
	Processors privacy.Processors
}

// CompleteResult is what completing did.
type CompleteResult struct {
	Request Request
	// Erasure is the report of an erasure request's erasure.
	Erasure *privacy.ErasureReport
	// ProcessorsLeft are references at processors that could not be
	// deleted automatically ("stripe cus_123"): staff delete them by hand.
	// Erasure.StaffToDo() says this in sentences, with the recipients
	// staff must ask (a mail relay's logs).
	ProcessorsLeft []string
}

// Complete does the work of a request in progress and closes it with a
// record of what was done:
//
//   - access and portability: the export is counted (privacy.Collect) and
//     the requester is told to sign in to the privacy center, where they
//     download it; the file is never made or kept here, nor seen by staff;
//   - erasure: privacy.Erase runs, processors are asked to delete their
//     references, and the report's counts are kept;
//   - rectification, restriction, objection, withdrawal: staff did the
//     work, and their note is the record.
//
// The outcome holds counts and categories, never the data. Erasure runs
// in a transaction of its own before the request is closed: if closing
// fails, completing again erases nothing more and closes it.
func Complete(ctx context.Context, d *db.DB, inv privacy.Inventory, id int64, c Completion, by Actor, now time.Time) (CompleteResult, error) {
	now = now.UTC()
	note := strings.TrimSpace(c.Note)
	if len(note) > maxNote {
		return CompleteResult{}, refusal(codeInvalid, fmt.Sprintf("The note is longer than %d characters; summarise it.", maxNote))
	}
	r, err := ByID(ctx, d, id)
	if err != nil {
		return CompleteResult{}, err
	}
	if r.State != InProgress && r.State != Extended {
		_, err := step(ctx, d, id, "complete", by, now, func(*sql.Tx, Request) (result, error) {
			return result{}, refusal(codeState, "Only a request in progress can be completed; this one is "+r.State.Label()+".")
		})
		return CompleteResult{}, err
	}
	var out CompleteResult
	ref := privacy.SubjectRef{Kind: privacy.Customer, ID: r.CustomerID, Email: r.Email}
	var outcome string
	switch r.Kind {
	case Access, Portability:
		if c.PrivacyPageURL == "" {
			return out, errors.New("complete request: no privacy page address given for the download")
		}
		v, err := vendor(ctx, d)
		if err != nil {
			return out, err
		}
		e, err := privacy.Collect(ctx, d, inv, v, ref, now)
		if err != nil {
			return out, err
		}
		outcome = ExportSummary(e)
	case Erasure:
		// One erasure for every channel: the data goes and its audit
		// entry is written in one transaction; the processors are asked
		// afterwards. Closing the request below is a step of its own: if
		// it fails, completing again erases nothing more and closes it.
		rep, err := privacy.Erase(ctx, d, inv, privacy.EraseRequest{Subject: ref, By: audit.Entry{Detail: "privacy request " + itoa(r.ID)}.By(by.Audit())}, c.Processors, now)
		if err != nil {
			return out, err
		}
		out.Erasure = &rep
		outcome = ErasureSummary(rep)
		deleted := 0
		for _, p := range rep.Processors {
			if p.Deleted {
				deleted++
			}
		}
		for _, p := range rep.ProcessorsLeft() {
			out.ProcessorsLeft = append(out.ProcessorsLeft, p.Recipient+" "+p.Ref)
		}
		if deleted > 0 {
			outcome += fmt.Sprintf("; deleted at processors: %d reference(s)", deleted)
		}
		if n := len(rep.ProcessorsLeft()); n > 0 {
			outcome += fmt.Sprintf("; %d reference(s) at processors to delete by hand", n)
		}
	default:
		if note == "" {
			return out, refusal(codeInvalid, "Say what you did (for example which details you corrected, or which processing you stopped): it is the record of this request and is sent to the requester.")
		}
		outcome = "done by staff: " + note
		note = ""
	}
	if note != "" {
		outcome += "; note: " + note
	}
	out.Request, err = step(ctx, d, id, "complete", by, now, func(tx *sql.Tx, r Request) (result, error) {
		if r.State != InProgress && r.State != Extended {
			return result{}, refusal(codeState, "Only a request in progress can be completed; this one is "+r.State.Label()+".")
		}
		if err := move(ctx, tx, r, Completed, now, `UPDATE privacy_requests SET outcome = $1, completed_at = $2, code_hash = NULL WHERE id = $3`,
			outcome, now); err != nil {
			return result{}, err
		}
		v, err := vendor(ctx, tx)
		if err != nil {
			return result{}, err
		}
		data := DoneMail{SiteName: v.Name, Number: r.ID, Wish: r.Kind.Wish(), Outcome: outcome, Erased: r.Kind == Erasure,
			PrivacyEmail: v.PrivacyEmail}
		if r.Kind == Access || r.Kind == Portability {
			data.DownloadURL = c.PrivacyPageURL
		}
		if err := queue(ctx, tx, "request_done", r.Email, r, "privacy-request-done:"+itoa(r.ID), data, now); err != nil {
			return result{}, err
		}
		return result{to: Completed, note: "completed: " + outcome, detail: "kind=" + string(r.Kind)}, nil
	})
	return out, err
}

// ExportSummary describes an access export by counts and table names.
func ExportSummary(e privacy.Export) string {
	names := make([]string, len(e.Tables))
	for i, t := range e.Tables {
		names[i] = t.Name
	}
	s := fmt.Sprintf("export: %s from %d table(s)", plural(e.Rows(), "row"), len(e.Tables))
	if len(names) > 0 {
		s += " (" + strings.Join(names, ", ") + ")"
	}
	return s + "; the requester downloads it from the privacy center"
}

// ErasureSummary describes an erasure by counts per table and what was
// kept under legal hold until when: never the erased values.
func ErasureSummary(rep privacy.ErasureReport) string {
	var done, held []string
	for _, s := range rep.Steps {
		if s.Rows == 0 || s.Action == "nothing" {
			continue
		}
		part := fmt.Sprintf("%s %s %s", s.Table, plural(int(s.Rows), "row"), s.Action)
		if s.NotHeld {
			part += " (not invoiced)"
		}
		done = append(done, part)
		if len(s.Held) > 0 {
			held = append(held, fmt.Sprintf("%s until %s", s.Table, s.HeldUntil.Format(time.DateOnly)))
		}
	}
	if len(done) == 0 {
		return "erased: nothing was held about this person"
	}
	s := "erased: " + strings.Join(done, ", ")
	if len(held) > 0 {
		s += "; kept under legal hold: " + strings.Join(held, ", ")
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
