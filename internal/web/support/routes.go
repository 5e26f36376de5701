// Package support is the customer's side of the support desk: the public
// support page (a signed-in customer's ticket opens at once, a visitor's
// waits until they confirm their address by the mailed link), the page
// that link opens, and the customer's tickets in their account with the
// thread, the attachments and the reply form. The domain is
// internal/support; the console's desk is internal/web/supportdesk.
package support

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// Opening a ticket or adding to one costs staff time, so a signed-in
// customer's tickets and replies are capped per day (a visitor's
// confirmation mails are capped by the desk, support.PendingLimit).
// Confirming checks a secret, so its uses per network are capped like the
// other emailed links'.
var (
	limitOpen    = ratelimit.Limit{Max: 10, Window: 24 * time.Hour}
	limitReply   = ratelimit.Limit{Max: 60, Window: 24 * time.Hour}
	limitConfirm = ratelimit.Limit{Max: 20, Window: 15 * time.Minute}
)

// maxFormBytes is the largest body of a form that may carry files: every
// file at its limit, and room for the text and the multipart framing.
const maxFormBytes = support.MaxUploads*support.MaxUploadBytes + support.MaxTextBytes + 1<<20

type handler struct {
	*web.Server
	pages *web.Pages
	desk  *support.Desk
}

// Mount registers the support page, the confirmation link's page and the
// account's support pages on s.
func Mount(s *web.Server) error {
	pages, err := s.NewPages("support", templates, web.Public, template.FuncMap{"size": humanSize})
	if err != nil {
		return err
	}
	base := ""
	if u := s.BaseURL(); u != nil {
		base = u.String()
	}
	h := &handler{Server: s, pages: pages,
		desk: &support.Desk{DB: s.DB(), Clock: s.Clock(), Limiter: s.Limiter(), BaseURL: base, Log: s.Log()}}

	s.Handle("GET /support", h.form)
	s.Handle("POST /support", h.submit)
	s.Handle("GET /support/confirm", h.confirmForm)
	s.Handle("POST /support/confirm", h.confirm)

	s.Handle("GET /account/support", h.tickets)
	s.Handle("GET /account/support/{id}", h.ticket)
	s.Handle("POST /account/support/{id}", h.reply)
	s.Handle("GET /account/support/{id}/files/{att}", h.attachment)

	// The forms that take files; the handlers read them part by part.
	s.AllowLargeBody("POST /support", maxFormBytes)
	s.AllowLargeBody("POST /account/support/{id}", maxFormBytes)
	return nil
}

func (s *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return s.Render(w, r, status, s.pages, name, title, page)
}

// humanSize writes a file's size the way people read it.
func humanSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
}
