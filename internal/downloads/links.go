package downloads

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/releases"
)

// GrantKind is what entitles a link's holder to a file.
type GrantKind byte

// The kinds of grant.
const (
	ByLicense GrantKind = 'l' // a license (its row id)
	ByEmail   GrantKind = 'e' // a confirmed email-gated download request (its id)
)

// Grant is what a link was signed for: the license or download request
// that entitles its holder. Every use of a link checks the grant again,
// so a link of a license suspended since stops working at once.
type Grant struct {
	Kind GrantKind
	ID   int64
}

func (g Grant) String() string { return string(rune(g.Kind)) + strconv.FormatInt(g.ID, 10) }

func parseGrant(s string) (Grant, bool) {
	if len(s) < 2 || (s[0] != byte(ByLicense) && s[0] != byte(ByEmail)) {
		return Grant{}, false
	}
	id, err := strconv.ParseInt(s[1:], 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != s[1:] {
		return Grant{}, false
	}
	return Grant{Kind: GrantKind(s[0]), ID: id}, true
}

// Refusals of Check.
var (
	ErrLinkInvalid = refuse.New(refuse.NotFound, "download_link_invalid",
		"This download link is not valid. Open the download again from your account or the mail we sent.")
	ErrLinkExpired = refuse.New(refuse.Gone, "download_link_expired",
		"This download link has expired. Open the download again from your account or the mail we sent for a new one.")
	// ErrEmailLinkExpired is ErrLinkExpired for an email-gated download:
	// its mailed link confirmed once, so the way on is asking again.
	ErrEmailLinkExpired = refuse.New(refuse.Gone, "download_link_expired",
		"This download link has expired. Get a new one by asking again with your email address.")
)

// LinkTTL is how long a download link works: long enough to copy it to a
// server and fetch it there, short enough that a leaked link soon stops.
const LinkTTL = 24 * time.Hour

// Links signs and checks download links. A link is
// /downloads/ID/NAME?g=GRANT&x=EXPIRY&s=SIGNATURE, where the signature is
// an HMAC-SHA-256 under a key derived from the site's secret (shared by
// every instance) over the artifact id, the grant and the expiry; the name
// is only the file's, for the browser.
type Links struct {
	key []byte
}

// NewLinks derives the link key from the site's secret.
func NewLinks(siteSecret []byte) Links {
	m := hmac.New(sha256.New, siteSecret)
	m.Write([]byte("storekeep download links v1"))
	return Links{key: m.Sum(nil)}
}

func (k Links) mac(artifactID int64, g Grant, expires int64) string {
	m := hmac.New(sha256.New, k.key)
	fmt.Fprintf(m, "%d\x00%s\x00%d", artifactID, g, expires)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Path is the signed path of a's download for grant g, working until
// expires (whole seconds).
func (k Links) Path(a releases.Artifact, g Grant, expires time.Time) string {
	x := expires.Unix()
	q := url.Values{"g": {g.String()}, "x": {strconv.FormatInt(x, 10)}, "s": {k.mac(a.ID, g, x)}}
	return "/downloads/" + strconv.FormatInt(a.ID, 10) + "/" + url.PathEscape(a.FileName) + "?" + q.Encode()
}

// SignaturePath is the signed path of a's minisign signature.
func (k Links) SignaturePath(a releases.Artifact, g Grant, expires time.Time) string {
	p := k.Path(a, g, expires)
	i := len("/downloads/") + len(strconv.FormatInt(a.ID, 10)) + 1 + len(url.PathEscape(a.FileName))
	return p[:i] + ".minisig" + p[i:]
}

// Check verifies a link's query for artifactID at now and returns its
// grant: ErrLinkInvalid when anything was changed (compared in constant
// time), ErrLinkExpired once its time is over.
func (k Links) Check(artifactID int64, q url.Values, now time.Time) (Grant, error) {
	g, ok := parseGrant(q.Get("g"))
	if !ok {
		return Grant{}, ErrLinkInvalid
	}
	xs := q.Get("x")
	x, err := strconv.ParseInt(xs, 10, 64)
	if err != nil || strconv.FormatInt(x, 10) != xs {
		return Grant{}, ErrLinkInvalid
	}
	if !hmac.Equal([]byte(k.mac(artifactID, g, x)), []byte(q.Get("s"))) {
		return Grant{}, ErrLinkInvalid
	}
	if !now.Before(time.Unix(x, 0)) {
		return Grant{}, ErrLinkExpired
	}
	return g, nil
}
