package serving

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies parses a comma-separated list of IP addresses and CIDR
// blocks, e.g. "10.0.0.0/8, 192.0.2.7, fd00::/8". An address stands for a
// block of that one address. An empty list trusts no one.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR block: use e.g. 10.0.0.0/8 or fd00::/8", f)
			}
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR block: use e.g. 192.0.2.7 or 10.0.0.0/8", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

type clientKey struct{}

// client is what ClientIPMiddleware learned about a request.
type client struct {
	addr  netip.Addr
	https bool
}

// ClientIPMiddleware works out who sent each request and whether it reached
// us over HTTPS, and stores both in the request's context for ClientIP and
// IsHTTPS.
//
// The X-Forwarded-For and X-Forwarded-Proto headers are honoured only when
// the TCP peer is in trusted: anyone else can write them. X-Forwarded-For is
// read from the right, skipping trusted hops; the first untrusted address is
// the client, so entries a client put at the left to pose as someone else
// are never reached. X-Forwarded-Proto is taken from its rightmost value,
// the one the proxy that connected to us wrote. From an untrusted peer both
// headers are removed, so that no handler can use them by mistake.
func ClientIPMiddleware(trusted []netip.Prefix) func(http.Handler) http.Handler {
	trusted = append([]netip.Prefix(nil), trusted...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, peerTrusted := resolveClient(r, trusted)
			if !peerTrusted && (r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("X-Forwarded-Proto") != "") {
				r = r.Clone(r.Context())
				r.Header.Del("X-Forwarded-For")
				r.Header.Del("X-Forwarded-Proto")
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)))
		})
	}
}

// ClientIP returns the address of the client that sent r, as worked out by
// ClientIPMiddleware; without the middleware, the TCP peer's address. The
// result is invalid (!IsValid()) when r.RemoteAddr cannot be parsed.
func ClientIP(r *http.Request) netip.Addr {
	if c, ok := r.Context().Value(clientKey{}).(client); ok {
		return c.addr
	}
	return peerAddr(r)
}

// IsHTTPS reports whether the client's request reached us over HTTPS: over
// our own TLS listener, or, behind a trusted proxy, as that proxy reported
// with X-Forwarded-Proto.
func IsHTTPS(r *http.Request) bool {
	if c, ok := r.Context().Value(clientKey{}).(client); ok {
		return c.https
	}
	return r.TLS != nil
}

func resolveClient(r *http.Request, trusted []netip.Prefix) (client, bool) {
	peer := peerAddr(r)
	c := client{addr: peer, https: r.TLS != nil}
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return c, false
	}
	if hops := forwardedFor(r.Header); len(hops) > 0 {
		// Walk from the hop nearest to us towards the client. Each trusted
		// hop vouches for the entry left of it; the first untrusted one is
		// the client. If every hop is trusted, the leftmost is the client.
		for i := len(hops) - 1; i >= 0; i-- {
			a, ok := parseHop(hops[i])
			if !ok {
				// Garbage from a hop we cannot vouch for: stop at the last
				// address we could read (a trusted proxy).
				break
			}
			c.addr = a
			if !isTrusted(a, trusted) {
				break
			}
		}
	}
	if protos := r.Header.Values("X-Forwarded-Proto"); len(protos) > 0 {
		last := protos[len(protos)-1]
		if i := strings.LastIndexByte(last, ','); i >= 0 {
			last = last[i+1:]
		}
		switch strings.ToLower(strings.TrimSpace(last)) {
		case "https":
			c.https = true
		case "http":
			c.https = false
		}
	}
	return c, true
}

// forwardedFor returns the X-Forwarded-For entries of all such headers, in
// order (several headers are one comma-separated list, RFC 9110 5.3).
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				hops = append(hops, f)
			}
		}
	}
	return hops
}

// parseHop reads one X-Forwarded-For entry: an address, optionally with a
// port ("192.0.2.1:5555", "[2001:db8::1]:443") as some proxies write it.
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap().WithZone("")
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
