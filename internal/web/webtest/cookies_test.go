package webtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/privacy"
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
		declaredCookiesOnly(r, h, privacy.Declared.Cookies, nil).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
		if len(r.errs) != 1 || !strings.Contains(r.errs[0], `"tracker"`) {
			t.Errorf("%s: %q", name, r.errs)
		}
	}
	r := &recorder{TB: t}
	declaredCookiesOnly(r, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sk_staff", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "__Host-sk_customer", Value: "1"})
	}), privacy.Declared.Cookies, nil).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	if len(r.errs) != 0 {
		t.Errorf("a declared cookie failed: %q", r.errs)
	}
}

// A declared cookie that needs consent fails the check when the browser
// did not agree to its category, and passes when it did or when the
// answer removes it.
func TestOptionalCookiesWithoutConsentFail(t *testing.T) {
	cookies := []privacy.Cookie{{Name: "sk_stats", Category: privacy.Statistics, Purpose: "counts", Duration: "1 day", Subject: privacy.Visitor}}
	set := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sk_stats", Value: "1"})
	})
	remove := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sk_stats", MaxAge: -1})
	})
	for _, tc := range []struct {
		name   string
		h      http.Handler
		agreed bool
		errs   int
	}{
		{"set without consent", set, false, 1},
		{"set with consent", set, true, 0},
		{"removed without consent", remove, false, 0},
	} {
		r := &recorder{TB: t}
		consented := func(*http.Request, privacy.CookieCategory) bool { return tc.agreed }
		declaredCookiesOnly(r, tc.h, cookies, consented).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
		if len(r.errs) != tc.errs {
			t.Errorf("%s: %q", tc.name, r.errs)
		}
	}
}
