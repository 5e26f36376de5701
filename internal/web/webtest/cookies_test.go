package webtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what Errorf said.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// The check fails on a cookie the registry does not declare, however the
// handler answers, and passes the declared ones.
func TestUndeclaredCookiesFail(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"with a body": func(w http.ResponseWriter, _ *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "tracker", Value: "1"})
			_, _ = w.Write([]byte("hi"))
		},
		"with a status only": func(w http.ResponseWriter, _ *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "tracker", Value: "1"})
			w.WriteHeader(http.StatusNoContent)
		},
		"with nothing written": func(w http.ResponseWriter, _ *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "tracker", Value: "1"})
		},
	} {
		r := &recorder{TB: t}
		declaredCookiesOnly(r, h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
		if len(r.errs) != 1 || !strings.Contains(r.errs[0], `"tracker"`) {
			t.Errorf("%s: %q", name, r.errs)
		}
	}
	r := &recorder{TB: t}
	declaredCookiesOnly(r, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sk_staff", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "__Host-sk_customer", Value: "1"})
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	if len(r.errs) != 0 {
		t.Errorf("a declared cookie failed: %q", r.errs)
	}
}
