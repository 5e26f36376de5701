// Package lists is the public side of the mailing lists (internal/lists):
// the newsletter page where anyone subscribes to the newsletter or a
// product's release announcements, the page the confirmation link opens,
// and the unsubscribe link every bulk message carries (internal/unsubscribe,
// RFC 8058):
//
//   - GET /unsubscribe/{token} shows what the link stops and a button; it
//     never unsubscribes (mail scanners follow links);
//   - POST /unsubscribe/{token}/confirm is that button: a form of this
//     site, under the cross-origin protection like every other;
//   - POST /unsubscribe/{token} with the body List-Unsubscribe=One-Click is
//     the mailbox provider's one-click request: no cookie, no form token,
//     no redirect; it is the one route exempt from the cross-origin
//     protection (web.Server.AllowCrossSite), since providers send it from
//     their servers with their own Origin or none. The signed token is the
//     capability; without it nothing changes.
//
// Each unsubscribe is recorded with the time it was processed.
package lists

import (
	"embed"
	"net/http"
	"time"

	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// Subscribing sends mail, so it is limited per address (a few
// confirmations a day: nobody's inbox is filled with them) and per network
// (an office shares one). Confirming checks a secret, so its uses per
// network are capped like the other emailed links'. Unsubscribing is not
// limited (see apply).
var (
	limitSubscribeAddress = ratelimit.Limit{Max: 3, Window: 24 * time.Hour}
	limitSubscribeNetwork = ratelimit.Limit{Max: 20, Window: time.Hour}
	limitConfirm          = ratelimit.Limit{Max: 20, Window: 15 * time.Minute}
)

type handler struct {
	*web.Server
	pages *web.Pages
}

// oneClick is the mailbox providers' route, the only one exempt from the
// cross-origin protection.
const oneClick = "POST /unsubscribe/{token}"

// Mount registers the newsletter, confirmation and unsubscribe pages on s.
func Mount(s *web.Server) error {
	pages, err := s.NewPages("lists", templates, web.Public, nil)
	if err != nil {
		return err
	}
	h := &handler{Server: s, pages: pages}
	s.Handle("GET /newsletter", h.form)
	s.AddFooterLink("Newsletter", "/newsletter")
	s.Handle("POST /newsletter", h.subscribe)
	s.Handle("GET /newsletter/confirm", h.confirmForm)
	s.Handle("POST /newsletter/confirm", h.confirm)

	s.Handle("GET /unsubscribe/{token}", h.unsubscribeForm)
	s.Handle("POST /unsubscribe/{token}/confirm", h.unsubscribePage)
	s.Handle(oneClick, h.unsubscribeOneClick)
	s.AllowCrossSite(oneClick)
	return nil
}

func (s *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	web.NoStore(w)
	return s.Render(w, r, status, s.pages, name, title, page)
}
