// Package invoice renders the printable invoice, credit note and
// correction documents that the customer account and the staff console
// both show.
package invoice

import (
	"context"
	"embed"
	"net/http"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// Renderer renders the documents on one site.
type Renderer struct {
	*web.Server
	db    *db.DB
	pages *web.Pages
}

// New parses the document templates for s.
func New(s *web.Server) (*Renderer, error) {
	pages, err := s.NewPages("invoice", templates, web.Public, nil)
	if err != nil {
		return nil, err
	}
	return &Renderer{Server: s, db: s.DB(), pages: pages}, nil
}

func (s *Renderer) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return s.Render(w, r, status, s.pages, name, title, page)
}

// invoicePage is the content of invoice.html: a printable document.
type invoicePage struct {
	Invoice orders.Invoice
	Order   orders.Order
	Vendor  settings.Vendor
	// Correction, when set, is the document shown: a correction of
	// Invoice with its own number and the corrected billing details.
	Correction *orders.Correction
	// Billing is what the document is addressed to.
	Billing orders.Billing
}

func (s *Renderer) Invoice(w http.ResponseWriter, r *http.Request, inv orders.Invoice, o orders.Order) error {
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("download") == "1" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+string(inv.Kind)+"-"+inv.Number+`.html"`)
	}
	return s.render(w, r, http.StatusOK, "invoice.html", "Invoice "+inv.Number, invoicePage{Invoice: inv, Order: o, Vendor: v, Billing: o.Billing})
}

// renderCorrection shows a correction of an invoice.
func (s *Renderer) Correction(w http.ResponseWriter, r *http.Request, c orders.Correction, o orders.Order) error {
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	inv, err := orders.InvoiceByNumber(r.Context(), s.db, c.InvoiceNumber)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "invoice.html", "Correction "+c.Number, invoicePage{Invoice: inv, Order: o, Vendor: v, Correction: &c, Billing: c.Billing})
}

// CorrectionFor loads a correction and its order by the correction's
// number.
func CorrectionFor(ctx context.Context, d *db.DB, number string) (orders.Correction, orders.Order, error) {
	c, orderID, err := orders.CorrectionByNumber(ctx, d, number)
	if err != nil {
		return c, orders.Order{}, err
	}
	o, err := orders.ByID(ctx, d, orderID)
	return c, o, err
}
