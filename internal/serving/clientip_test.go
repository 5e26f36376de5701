package serving

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientIPMiddleware(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.7, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		peer      string
		tls       bool
		xff       []string // one entry per header line
		proto     string
		wantIP    string
		wantHTTPS bool
	}{
		{name: "trusted peer, client behind one more trusted hop", peer: "10.0.0.1:4000",
			xff: []string{"203.0.113.9, 10.0.0.2"}, proto: "https", wantIP: "203.0.113.9", wantHTTPS: true},
		{name: "trusted peer reports plain http", peer: "10.0.0.1:4000",
			xff: []string{"203.0.113.9"}, proto: "http", wantIP: "203.0.113.9"},
		{name: "untrusted peer: headers ignored and removed", peer: "198.51.100.4:4000",
			xff: []string{"203.0.113.9, 10.0.0.2"}, proto: "https", wantIP: "198.51.100.4"},
		{name: "untrusted peer over TLS is https whatever it says", peer: "198.51.100.4:4000", tls: true,
			proto: "http", wantIP: "198.51.100.4", wantHTTPS: true},
		{name: "spoofed leftmost entries are not reached", peer: "10.0.0.1:4000",
			xff: []string{"1.2.3.4, 10.9.9.9, 203.0.113.9, 10.0.0.2"}, wantIP: "203.0.113.9"},
		{name: "several header lines form one list", peer: "192.0.2.7:4000",
			xff: []string{"1.2.3.4", "203.0.113.9"}, wantIP: "203.0.113.9"},
		{name: "all hops trusted: the leftmost is the client", peer: "10.0.0.1:4000",
			xff: []string{"10.1.1.1, 10.0.0.2"}, wantIP: "10.1.1.1"},
		{name: "entries with ports", peer: "10.0.0.1:4000",
			xff: []string{"[2001:db8::9]:1234, 10.0.0.2:80"}, wantIP: "2001:db8::9"},
		{name: "garbage stops the walk at the last trusted hop", peer: "10.0.0.1:4000",
			xff: []string{"203.0.113.9, unknown, 10.0.0.2"}, wantIP: "10.0.0.2"},
		{name: "trusted peer without headers is the client", peer: "10.0.0.1:4000", wantIP: "10.0.0.1"},
		{name: "IPv4-mapped peer is unmapped and trusted", peer: "[::ffff:10.0.0.1]:4000",
			xff: []string{"203.0.113.9"}, proto: "https", wantIP: "203.0.113.9", wantHTTPS: true},
		{name: "IPv6 trusted peer", peer: "[fd00::1]:4000",
			xff: []string{"2001:db8::5"}, proto: "HTTPS", wantIP: "2001:db8::5", wantHTTPS: true},
		{name: "rightmost proto value counts", peer: "10.0.0.1:4000",
			proto: "https, http", wantIP: "10.0.0.1"},
		{name: "unknown proto keeps the connection's", peer: "10.0.0.1:4000", tls: true,
			proto: "gopher", wantIP: "10.0.0.1", wantHTTPS: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gotIP netip.Addr
			var gotHTTPS, sawXFF bool
			h := ClientIPMiddleware(trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotIP, gotHTTPS = ClientIP(r), IsHTTPS(r)
				sawXFF = r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("X-Forwarded-Proto") != ""
			}))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			} else {
				r.TLS = nil
			}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if gotIP.String() != tc.wantIP || gotHTTPS != tc.wantHTTPS {
				t.Errorf("client = %v https=%v, want %s https=%v", gotIP, gotHTTPS, tc.wantIP, tc.wantHTTPS)
			}
			// From a trusted peer the headers pass; from anyone else they
			// are removed.
			sent := len(tc.xff) > 0 || tc.proto != ""
			if want := sent && !strings.HasPrefix(tc.peer, "198.51.100."); sawXFF != want {
				t.Errorf("forwarding headers visible to the handler = %v, want %v", sawXFF, want)
			}
		})
	}
}

func TestClientIPWithoutMiddleware(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "[::ffff:203.0.113.9]:5555"
	r.Header.Set("X-Forwarded-For", "1.2.3.4")
	r.Header.Set("X-Forwarded-Proto", "https")
	if got := ClientIP(r); got != netip.MustParseAddr("203.0.113.9") {
		t.Errorf("ClientIP = %v, want the peer", got)
	}
	if IsHTTPS(r) {
		t.Error("IsHTTPS believed X-Forwarded-Proto without the middleware")
	}
	r.TLS = &tls.ConnectionState{}
	if !IsHTTPS(r) {
		t.Error("IsHTTPS = false on a TLS connection")
	}
	r.RemoteAddr = "not an address"
	if got := ClientIP(r); got.IsValid() {
		t.Errorf("ClientIP of a bad RemoteAddr = %v, want invalid", got)
	}
}

func TestClientIPMiddlewareTrustsNoOneByDefault(t *testing.T) {
	var got netip.Addr
	h := ClientIPMiddleware(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = ClientIP(r) }))
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:5555"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("ClientIP = %v with no trusted proxies, want the peer 127.0.0.1", got)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.1.2.3/8 ,192.0.2.7,, ::ffff:192.0.2.8, 2001:db8::/32 ")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "192.0.2.8/32", "2001:db8::/32"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d = %v, want %s", i, got[i], want[i])
		}
	}
	if got, err := ParseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Errorf("empty list = %v, %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.internal", "10.0.0.1-10.0.0.9", "fe80::1%eth0"} {
		if _, err := ParseTrustedProxies(bad); err == nil || !strings.Contains(err.Error(), "use e.g.") {
			t.Errorf("ParseTrustedProxies(%q) = %v, want an error that says what to write", bad, err)
		}
	}
}
