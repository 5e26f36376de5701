package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/releases"
)

// upgradeRequest asks which release the product should install.
type upgradeRequest struct {
	Key string `json:"key"`
	// Channel is the product's channel: stable (the default) or beta
	// (beta and stable releases).
	Channel string `json:"channel"`
	// Version is the version installed now; "" asks for the newest.
	Version string `json:"version"`
	Nonce   string `json:"nonce"`
}

// upgrade is the answer's upgrade member.
type upgrade struct {
	// Available is true when Release is newer than the version sent (or
	// no version was sent and there is a release).
	Available bool `json:"available"`
	// Release is the newest release on the channel the license covers.
	Release *upgradeRelease `json:"release"`
	// Beyond is a newer release the license does not cover (published
	// after its updates ended), with why and where to renew.
	Beyond *beyondRelease `json:"beyond"`
}

type upgradeRelease struct {
	Version   string         `json:"version"`
	Channel   string         `json:"channel"`
	Published int64          `json:"published"`
	Notes     string         `json:"notes"` // Markdown
	Files     []upgradeFile  `json:"files"`
	Checksums *checksumsFile `json:"checksums"`
}

type upgradeFile struct {
	Name      string `json:"name"`
	Platform  string `json:"platform"`
	Kind      string `json:"kind"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	Signature string `json:"signature"` // minisign signature file
	URL       string `json:"url"`       // signed link, valid for a day
}

type checksumsFile struct {
	Text      string `json:"text"`
	Signature string `json:"signature"`
}

type beyondRelease struct {
	Version   string `json:"version"`
	Published int64  `json:"published"`
	Reason    string `json:"reason"`
	RenewURL  string `json:"renew_url"`
}

// upgradeAnswer is answer with the upgrade member.
type upgradeAnswer struct {
	answer
	Upgrade *upgrade `json:"upgrade,omitempty"`
}

// upgradeCheck tells a product the newest release its license may install
// on its channel, with signed links to the files, and a newer release the
// license does not cover, if any. A license that does not let the product
// run gets its code and no upgrade.
func (h *handler) upgradeCheck(w http.ResponseWriter, r *http.Request) error {
	var req upgradeRequest
	var current releases.Version
	nonce, ok, err := h.read(w, r, &req, func(p *[]error) {
		text(p, "channel", "The channel", 16, &req.Channel)
		text(p, "version", "The version", maxVersion, &req.Version)
		switch req.Channel {
		case "":
			req.Channel = string(releases.Stable)
		case string(releases.Stable), string(releases.Beta):
		default:
			*p = append(*p, bad("The channel is stable or beta."))
		}
		if req.Version != "" {
			v, err := releases.ParseVersion(req.Version)
			if err != nil {
				*p = append(*p, bad("The version %q is not a semantic version (such as 2.4.1).", req.Version))
			}
			current = v
		}
	})
	if !ok {
		return err
	}
	now := h.Clock().Now()
	res, err := licensing.Validate(r.Context(), h.DB(), h.keys, licensing.Check{Key: req.Key}, now)
	if err != nil {
		return h.domainError(w, r, err, nonce)
	}
	a := upgradeAnswer{answer: answer{Code: res.Code, Message: res.Message, Nonce: nonce, License: licenseOf(res.License)}}
	if guessing(res.Code) {
		return h.answer(w, r, res, nonce, "")
	}
	if !res.Code.OK() || res.License == nil {
		return h.replyWith(w, r, a)
	}
	up, err := h.upgradeFor(r, *res.License, releases.Channel(req.Channel), current, req.Version != "")
	if err != nil {
		return h.domainError(w, r, err, nonce)
	}
	a.Upgrade = up
	return h.replyWith(w, r, a)
}

func (h *handler) upgradeFor(r *http.Request, l licensing.License, channel releases.Channel, current releases.Version, hasCurrent bool) (*upgrade, error) {
	all, err := releases.Published(r.Context(), h.DB(), l.Product)
	if err != nil {
		return nil, err
	}
	var covered, beyond []releases.Release
	for _, rel := range all {
		err := downloads.Covers(l, rel)
		switch {
		case err == nil:
			covered = append(covered, rel)
		case errors.Is(err, downloads.ErrAfterUpdates):
			beyond = append(beyond, rel)
		}
	}
	up := &upgrade{}
	best, ok := downloads.Newest(covered, channel)
	if ok {
		up.Available = !hasCurrent || best.Version.Compare(current) > 0
		up.Release = h.releaseOf(best, l)
	}
	if nb, ok := downloads.Newest(beyond, channel); ok && (!hasCurrent || nb.Version.Compare(current) > 0) {
		up.Beyond = &beyondRelease{Version: nb.Version.String(), Published: unix(nb.PublishedAt), Reason: downloads.Covers(l, nb).Error(),
			RenewURL: h.BaseURL().JoinPath(downloads.RenewalPath(l, downloads.ErrAfterUpdates)).String()}
	}
	return up, nil
}

func (h *handler) releaseOf(rel releases.Release, l licensing.License) *upgradeRelease {
	links := downloads.NewLinks(h.Secret())
	exp := h.Clock().Now().Add(downloads.LinkTTL)
	g := downloads.Grant{Kind: downloads.ByLicense, ID: l.ID}
	out := &upgradeRelease{Version: rel.Version.String(), Channel: string(rel.Channel), Published: unix(rel.PublishedAt), Notes: rel.Notes,
		Files: []upgradeFile{}}
	if rel.Checksums != "" {
		out.Checksums = &checksumsFile{Text: rel.Checksums, Signature: rel.ChecksumsSignature}
	}
	base := strings.TrimSuffix(h.BaseURL().String(), "/")
	for _, a := range rel.Artifacts {
		link := base + links.Path(a, g, exp)
		out.Files = append(out.Files, upgradeFile{Name: a.FileName, Platform: a.Platform, Kind: string(a.Kind), Size: a.Size,
			SHA256: a.SHA256, Signature: a.Signature, URL: link})
	}
	return out
}

// replyWith writes an answer with its upgrade member.
func (h *handler) replyWith(w http.ResponseWriter, r *http.Request, a upgradeAnswer) error {
	if a.Message == "" {
		a.Message = licensing.Message(a.Code)
	}
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return h.write(w, r, statusOf(a.Code), body, a.Nonce)
}
