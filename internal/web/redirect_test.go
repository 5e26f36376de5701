package web_test

import (
	"testing"

	"github.com/storekeep/storekeep/internal/web"
)

// TestOneRedirectCheckForStaffAndCustomers: after signing in, a browser is
// sent back only to a local path in its own area; everything an attacker
// could use to send it elsewhere falls back to the area's start page. The
// console's check was weaker than the customer's (it let through control
// characters, dot segments and the sign-out page); both are one check now.
func TestOneRedirectCheckForStaffAndCustomers(t *testing.T) {
	hostile := []string{
		"", "https://evil.example/", "//evil.example/staff", "/\\evil.example", "\\\\evil.example",
		"/%2F%2Fevil.example", "javascript:alert(1)", "/staff\r\nSet-Cookie: x=1", "/staff\x00", "/staff\t",
		"/account\x7f", "/staff/../evil", "/account/./../x", "/staff/.", "/" + string(make([]byte, 1001)),
		"http:/staff", "/staffing", "/accounts", "/evil",
	}
	for _, tc := range []struct {
		area     string
		check    func(string) string
		fallback string
		ok       []string
		no       []string
	}{
		{"console", web.SafeStaffNext, "/staff",
			[]string{"/staff", "/staff/orders/ABCD-1234", "/staff/customers?q=%C3%B6zt%C3%BCrk"},
			[]string{"/staff/login", "/staff/login?next=/x", "/staff/logout", "/staff/setup", "/staff/reset", "/staff/2fa", "/staff/2fa/setup", "/account"}},
		{"account", web.SafeAccountNext, "/account",
			[]string{"/account", "/account/orders/ABCD-1234", "/checkout?price=3", "/buy/x"},
			[]string{"/account/login", "/account/verify?token=x", "/account/logout", "/account/email/confirm", "/staff"}},
	} {
		for _, p := range tc.ok {
			if got := tc.check(p); got != p {
				t.Errorf("%s: %q became %q, want it kept", tc.area, p, got)
			}
		}
		for _, p := range append(hostile, tc.no...) {
			if got := tc.check(p); got != tc.fallback {
				t.Errorf("%s: %q became %q, want %q", tc.area, p, got, tc.fallback)
			}
		}
	}
}
