package web

import (
	"context"
	"database/sql"
	"net/http"

	"github.com/storekeep/storekeep/internal/audit"
)

// Audit appends e to the audit log inside tx, so a change and its record
// commit or roll back together. What the request knows is filled in where
// e leaves it empty: the time (now), the actor (the signed-in staff
// member) and the actor's network.
func (s *Server) Audit(ctx context.Context, tx *sql.Tx, r *http.Request, e audit.Entry) error {
	s.fillEntry(r, &e)
	_, err := audit.Append(ctx, tx, e)
	return err
}

// AuditAlone appends e in a transaction of its own, for actions whose
// change is not in our database (a view of personal data, a refusal).
func (s *Server) AuditAlone(r *http.Request, e audit.Entry) error {
	s.fillEntry(r, &e)
	return audit.Record(r.Context(), s.db, e)
}

func (s *Server) fillEntry(r *http.Request, e *audit.Entry) {
	if e.At.IsZero() {
		e.At = s.clock.Now()
	}
	if e.ActorType == "" {
		if sess := StaffSession(r); sess != nil {
			e.ActorType, e.ActorID = audit.ActorStaff, sess.Account.ID
		}
	}
	if e.ActorType == audit.ActorStaff && e.ActorID == 0 {
		if sess := StaffSession(r); sess != nil {
			e.ActorID = sess.Account.ID
		}
	}
	if e.SourceNet == "" {
		e.SourceNet = Network(r)
	}
}

// RecordView records that the signed-in staff member viewed a data
// subject's personal data. Every console page that shows a customer's
// personal data calls it before rendering.
func (s *Server) RecordView(r *http.Request, subjectType, subjectID, what string) error {
	return s.AuditAlone(r, audit.Entry{ActorType: audit.ActorStaff, Action: "personal_data.view",
		SubjectType: subjectType, SubjectID: subjectID, Detail: what})
}
