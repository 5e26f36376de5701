package web

import (
	"mime"
	"testing"
)

// isForm agrees with mime.ParseMediaType, which it replaces on the
// request path, on which Content-Types are forms.
func FuzzIsForm(f *testing.F) {
	for _, s := range []string{
		"application/x-www-form-urlencoded",
		"Application/X-WWW-Form-Urlencoded; charset=UTF-8",
		" application/x-www-form-urlencoded ;x=\"y\"",
		"application/x-www-form-urlencoded;;;",
		"text/plain;charset=UTF-8",
		"multipart/form-data; boundary=x",
		"application/x-www-form-urlencodedx",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		mt, _, _ := mime.ParseMediaType(ct)
		if want := mt == "application/x-www-form-urlencoded"; isForm(ct) != want {
			t.Fatalf("isForm(%q) = %v, mime.ParseMediaType says %q", ct, !want, mt)
		}
	})
}
