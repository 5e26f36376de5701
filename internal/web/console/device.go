package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/web"
)

// Sign-in limits (docs/architecture.md, "Sign-in protection"). A browser
// that completed a sign-in of an account holds a device cookie for it; its
// attempts at that account count against its own bucket only. Attempts
// without one count per network, per account and network, and against an
// account-wide bucket: a flood of wrong passwords from anywhere slows
// untrusted browsers down, never the member's own. The account buckets
// are keyed by the address typed in, so they behave the same for unknown
// addresses and say nothing about which accounts exist.
var (
	// limitLoginDevice: one trusted browser, for the account its cookie names.
	limitLoginDevice = ratelimit.Limit{Max: 10, Window: 15 * time.Minute}
	// limitLoginAccountNetwork: one account from one untrusted network.
	limitLoginAccountNetwork = ratelimit.Limit{Max: 10, Window: 15 * time.Minute}
	// limitLoginUntrusted: one account from all browsers without its cookie,
	// the bound on a guesser spread over many networks.
	limitLoginUntrusted = ratelimit.Limit{Max: 20, Window: 15 * time.Minute}
	// limitLoginNetwork: every account from one untrusted network.
	limitLoginNetwork = ratelimit.Limit{Max: 50, Window: 15 * time.Minute}
	// limitSecondFactor: codes for one account (per trusted browser, or from
	// all untrusted ones together).
	limitSecondFactor = ratelimit.Limit{Max: 10, Window: 15 * time.Minute}
	// limitPasswordChange: the current password typed in a signed-in session.
	limitPasswordChange = ratelimit.Limit{Max: 10, Window: 15 * time.Minute}
	limitTokenNetwork   = ratelimit.Limit{Max: 20, Window: 15 * time.Minute}
)

// deviceCookieTTL is how long a browser stays trusted after its last
// completed sign-in (each one renews it).
const deviceCookieTTL = 90 * 24 * time.Hour

// deviceCookieName is __Host- prefixed over HTTPS, like the session cookie.
func (s *handler) deviceCookieName() string {
	if s.HTTPS() {
		return "__Host-sk_staff_device"
	}
	return "sk_staff_device"
}

// deviceKey is the key that signs device cookies, derived from the
// installation secret so that no other signature can stand for one.
func (s *handler) deviceKey() []byte {
	m := hmac.New(sha256.New, s.Secret())
	m.Write([]byte("staff device cookie v1"))
	return m.Sum(nil)
}

// deviceSignature signs a device's nonce and issue time for an account's
// address (as stored: lower case).
func (s *handler) deviceSignature(email, nonce, issued string) string {
	m := hmac.New(sha256.New, s.deviceKey())
	for _, part := range []string{email, nonce, issued} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// issueDevice gives the browser a device cookie for the account whose
// sign-in it just completed. The cookie holds a random nonce, the time and
// a signature over both and the address; not the address itself.
func (s *handler) issueDevice(w http.ResponseWriter, email string) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	nonce := base64.RawURLEncoding.EncodeToString(b)
	issued := strconv.FormatInt(s.clock.Now().Unix(), 10)
	http.SetCookie(w, &http.Cookie{
		Name: s.deviceCookieName(), Value: nonce + "." + issued + "." + s.deviceSignature(email, nonce, issued),
		Path: "/", HttpOnly: true, Secure: s.HTTPS(), SameSite: http.SameSiteStrictMode,
		MaxAge: int(deviceCookieTTL / time.Second),
	})
}

// trustedDevice returns the nonce of the request's device cookie when it
// is valid for the account with address email ("" otherwise).
func (s *handler) trustedDevice(r *http.Request, email string) string {
	c, err := r.Cookie(s.deviceCookieName())
	if err != nil || len(c.Value) > 200 {
		return ""
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return ""
	}
	nonce, issued, sig := parts[0], parts[1], parts[2]
	if !hmac.Equal([]byte(sig), []byte(s.deviceSignature(email, nonce, issued))) {
		return ""
	}
	at, err := strconv.ParseInt(issued, 10, 64)
	if err != nil {
		return ""
	}
	if age := s.clock.Now().Sub(time.Unix(at, 0)); age < -time.Minute || age > deviceCookieTTL {
		return ""
	}
	return nonce
}

// loginLimits are the buckets an attempt at the password of email counts
// against (see the variables above).
func (s *handler) loginLimits(r *http.Request, email string) []web.LimitCheck {
	if nonce := s.trustedDevice(r, email); nonce != "" {
		return []web.LimitCheck{s.Bucket(limitLoginDevice, "login:device", nonce)}
	}
	net := web.Network(r)
	return []web.LimitCheck{
		s.Bucket(limitLoginNetwork, "login:net", net),
		s.Bucket(limitLoginAccountNetwork, "login:account-net", email+"\x00"+net),
		s.Bucket(limitLoginUntrusted, "login:account", email),
	}
}

// secondFactorLimits are the buckets a code for the account counts
// against: the trusted browser's own, or the account's for all others
// together with the network's.
func (s *handler) secondFactorLimits(r *http.Request, id int64, email string) []web.LimitCheck {
	if nonce := s.trustedDevice(r, email); nonce != "" {
		return []web.LimitCheck{s.Bucket(limitSecondFactor, "2fa:device", nonce)}
	}
	return []web.LimitCheck{
		s.Bucket(limitSecondFactor, "2fa:account", web.Itoa(id)),
		s.Bucket(limitLoginNetwork, "2fa:net", web.Network(r)),
	}
}
