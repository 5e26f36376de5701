package web

import (
	"net/http"
	"strconv"
)

// ParseForm reads a submitted form, answering a refusal the visitor can
// act on when it cannot be read (a body over the limit stays a 413).
func ParseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			return err
		}
		return BadRequest("The form could not be read. Reload the page and try again.")
	}
	return nil
}

// Notices are an area's confirmations shown after a form succeeds (POST,
// then redirect with ?done=key, then GET): fixed texts, so nothing a
// request carries is reflected into the page.
type Notices map[string]string

// For returns the notice the request's ?done= names, or "".
func (n Notices) For(r *http.Request) string { return n[r.URL.Query().Get("done")] }

// PathID reads a positive numeric path value; anything else is a 404.
func PathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, NotFound("There is no such record.")
	}
	return id, nil
}

// Itoa formats an ID for a path or an audit subject.
func Itoa(n int64) string { return strconv.FormatInt(n, 10) }
