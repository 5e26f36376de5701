package beacon

import (
	"net/http"
	"time"

	"github.com/storekeep/storekeep/internal/web"
)

// cookieName is the cookie that asks not to be counted; __Host- prefixed
// over HTTPS, like the site's other cookies. It holds "1" and nothing
// else, and is declared in the inventory (inventory_analytics.go).
const cookieName = "sk_nocount"

// cookieLifetime: the choice holds for a year, then the visitor is asked
// by nothing and counted again unless they choose again; a year is what
// the policy says.
const cookieLifetime = 365 * 24 * time.Hour

var notices = web.Notices{
	"stopped": "Done: this browser's visits are not counted any more.",
	"counted": "Done: this browser's visits are counted again, without identifying you.",
}

// statisticsPage is the content of statistics.html.
type statisticsPage struct {
	Notice string
	// Signal is set when the browser itself asks not to be tracked.
	Signal string
	// Stopped is set when this browser chose not to be counted.
	Stopped bool
}

func (h *handler) statistics(w http.ResponseWriter, r *http.Request) error {
	p := statisticsPage{Notice: notices.For(r)}
	switch {
	case r.Header.Get("Sec-GPC") == "1":
		p.Signal = "Global Privacy Control"
	case r.Header.Get("DNT") == "1":
		p.Signal = "Do Not Track"
	}
	if _, err := r.Cookie(h.cookie()); err == nil {
		p.Stopped = true
	}
	w.Header().Set("Cache-Control", "no-store")
	return h.Render(w, r, http.StatusOK, h.pages, "statistics.html", "Usage statistics", p)
}

// choose records the visitor's choice in their browser: the cookie, or
// its removal. Nothing is stored on the server: there is nobody to store
// it for.
func (h *handler) choose(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	c := &http.Cookie{Name: h.cookie(), Value: "1", Path: "/", HttpOnly: true, Secure: h.HTTPS(), SameSite: http.SameSiteLaxMode}
	done := "stopped"
	switch r.PostForm.Get("choice") {
	case "stop":
		c.MaxAge = int(cookieLifetime / time.Second)
	case "count":
		c.Value, c.MaxAge, done = "", -1, "counted"
	default:
		return web.BadRequest("Choose one of the two buttons on the page.")
	}
	http.SetCookie(w, c)
	http.Redirect(w, r, "/statistics?done="+done, http.StatusSeeOther)
	return nil
}

func (h *handler) cookie() string {
	if h.HTTPS() {
		return "__Host-" + cookieName
	}
	return cookieName
}
