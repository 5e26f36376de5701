// Package invoice shows the invoice, credit note and correction documents
// that the customer account and the staff console both offer: as a
// printable page and as the PDF file (internal/documents), with the same
// content.
package invoice

import (
	"context"
	"embed"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/documents"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// Renderer renders the documents on one site.
type Renderer struct {
	*web.Server
	db           *db.DB
	pages        *web.Pages
	instructions string
}

// New parses the document templates for s in layout: the site's for
// customers, the console's for staff. paymentInstructions are the bank
// details printed on invoices paid by transfer.
func New(s *web.Server, paymentInstructions string, layout web.Layout) (*Renderer, error) {
	area := "invoice"
	if layout == web.Console {
		area = "invoice-console"
	}
	pages, err := s.NewPages(area, templates, layout, template.FuncMap{"lower": strings.ToLower})
	if err != nil {
		return nil, err
	}
	return &Renderer{Server: s, db: s.DB(), pages: pages, instructions: paymentInstructions}, nil
}

// Source loads documents with this site's payment instructions.
func (s *Renderer) Source() documents.Source {
	return documents.Source{DB: s.db, PaymentInstructions: s.instructions}
}

func (s *Renderer) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return s.Render(w, r, status, s.pages, name, title, page)
}

// invoicePage is the content of invoice.html: a printable document.
type invoicePage struct {
	documents.Document
	// PDF is the address of the document's PDF, relative to the page.
	PDF string
}

// Invoice shows an invoice or credit note; ?download=1 offers the page as
// a file.
func (s *Renderer) Invoice(w http.ResponseWriter, r *http.Request, inv orders.Invoice, o orders.Order) error {
	l, err := s.Source().Invoice(r.Context(), inv.Number)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("download") == "1" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+string(inv.Kind)+"-"+inv.Number+`.html"`)
	}
	return s.render(w, r, http.StatusOK, "invoice.html", l.Title+" "+inv.Number, invoicePage{Document: l.Document, PDF: inv.Number + "/pdf"})
}

// Correction shows a correction of an invoice.
func (s *Renderer) Correction(w http.ResponseWriter, r *http.Request, c orders.Correction, o orders.Order) error {
	l, err := s.Source().Correction(r.Context(), c.Number)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "invoice.html", "Correction "+c.Number, invoicePage{Document: l.Document, PDF: "../invoices/" + c.Number + "/pdf"})
}

// Load loads the invoice, credit note or correction with the number, and
// its order (the caller checks who may see it).
func (s *Renderer) Load(ctx context.Context, number string) (documents.Loaded, error) {
	return s.Source().ByNumber(ctx, number)
}

// PDF sends the document as a PDF file to save: never cached (it is a
// customer's record), named by its kind and number.
func (s *Renderer) PDF(w http.ResponseWriter, l documents.Loaded) error {
	b, err := l.PDF()
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `attachment; filename="`+l.Filename()+`"`)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	web.NoStore(w)
	h.Set("X-Content-Type-Options", "nosniff")
	_, err = w.Write(b)
	return err
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
