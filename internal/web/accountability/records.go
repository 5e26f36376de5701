package accountability

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/documents"
	"github.com/storekeep/storekeep/internal/privacy"
)

// recordsPage is the content of records.html.
type recordsPage struct {
	Records  privacy.ProcessingRecords
	Problems []privacy.RecipientProblem
}

func (h *handler) loadRecords(r *http.Request) (privacy.ProcessingRecords, error) {
	return privacy.LoadRecords(r.Context(), h.db, h.Inventory(), privacy.Facts{HTTPS: h.HTTPS()}, h.clock.Now())
}

func (h *handler) records(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.loadRecords(r)
	if err != nil {
		return err
	}
	probs, err := privacy.LoadRecipientProblems(r.Context(), h.db, h.Inventory(), h.clock.Now())
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "records.html", "Records of processing", recordsPage{Records: rec, Problems: probs})
}

// download sends the records in one format and records who took them.
func (h *handler) download(w http.ResponseWriter, r *http.Request, format, contentType string, write func(privacy.ProcessingRecords, *bytes.Buffer) error) error {
	rec, err := h.loadRecords(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := write(rec, &buf); err != nil {
		return err
	}
	if err := h.AuditAlone(r, audit.Entry{ActorType: audit.ActorStaff, Action: "records.downloaded", SubjectType: "records", SubjectID: format}); err != nil {
		return err
	}
	name := "records-of-processing-" + rec.GeneratedAt.Format("2006-01-02") + "." + format
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}

func (h *handler) recordsPDF(w http.ResponseWriter, r *http.Request) error {
	return h.download(w, r, "pdf", "application/pdf", func(rec privacy.ProcessingRecords, b *bytes.Buffer) error {
		pdf, err := documents.RecordsPDF(rec)
		b.Write(pdf)
		return err
	})
}

func (h *handler) recordsJSON(w http.ResponseWriter, r *http.Request) error {
	return h.download(w, r, "json", "application/json", func(rec privacy.ProcessingRecords, b *bytes.Buffer) error { return rec.WriteJSON(b) })
}

func (h *handler) recordsCSV(w http.ResponseWriter, r *http.Request) error {
	return h.download(w, r, "csv", "text/csv; charset=utf-8", func(rec privacy.ProcessingRecords, b *bytes.Buffer) error { return rec.WriteCSV(b) })
}
