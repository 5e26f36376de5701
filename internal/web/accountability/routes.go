// Package accountability is the console's accountability records under
// /staff/privacy: the recipients register, the records of processing
// (GDPR Art. 30) as a page, PDF, JSON and CSV, and the log of disclosures
// to public authorities. Owners only (permission privacy.records); every
// change is audited in the transaction that makes it. The domain is
// internal/privacy (register.go, art30.go, disclosures.go); the PDF is
// internal/documents. See docs/accountability.md.
package accountability

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

type handler struct {
	*web.Server
	db    *db.DB
	clock clock.Clock
	pages *web.Pages
}

// Mount registers the area's routes and navigation entry on s.
func Mount(s *web.Server) error {
	pages, err := s.NewPages("accountability", templates, web.Console, template.FuncMap{
		"categoryLabel": func(c privacy.Category) string { return c.Label() },
	})
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), pages: pages}
	full, perm := web.AccessFull, staff.PermAccountability
	s.HandleStaff("GET /staff/privacy/recipients", full, perm, h.register)
	s.HandleStaff("GET /staff/privacy/recipients/new", full, perm, h.newRecipient)
	s.HandleStaff("POST /staff/privacy/recipients", full, perm, h.addRecipient)
	s.HandleStaff("GET /staff/privacy/recipients/{key}", full, perm, h.editRecipient)
	s.HandleStaff("POST /staff/privacy/recipients/{key}", full, perm, h.updateRecipient)
	s.HandleStaff("POST /staff/privacy/recipients/{key}/delete", full, perm, h.deleteRecipient)
	s.HandleStaff("GET /staff/privacy/records", full, perm, h.records)
	s.HandleStaff("GET /staff/privacy/records.pdf", full, perm, h.recordsPDF)
	s.HandleStaff("GET /staff/privacy/records.json", full, perm, h.recordsJSON)
	s.HandleStaff("GET /staff/privacy/records.csv", full, perm, h.recordsCSV)
	s.HandleStaff("GET /staff/privacy/disclosures", full, perm, h.disclosures)
	s.HandleStaff("GET /staff/privacy/disclosures/new", full, perm, h.newDisclosure)
	s.HandleStaff("POST /staff/privacy/disclosures", full, perm, h.addDisclosure)
	s.HandleStaff("GET /staff/privacy/disclosures/{id}", full, perm, h.editDisclosure)
	s.HandleStaff("POST /staff/privacy/disclosures/{id}", full, perm, h.updateDisclosure)
	s.AddStaffNav(web.NavItem{Label: "Accountability", Href: "/staff/privacy/recipients", Perm: perm, Order: 75})
	return nil
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return h.Render(w, r, status, h.pages, name, title, page)
}
