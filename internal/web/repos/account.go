package repos

import (
	"embed"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// msgNoLicense answers a license that is not the customer's, or not at all
// (as the account's license pages do).
const msgNoLicense = "There is no such license in your account. Your licenses are listed on your licenses page."

// repositoryPage is the content of repository.html: the lines a customer
// pastes on a server to install the product with apt or dnf, with the
// license key filled in, or why the repositories are closed.
type repositoryPage struct {
	License licensing.License
	Product string // the product's name
	Closed  string // why the license opens no repository; "" when it does
	// Off says the shop serves no repositories (no repository key).
	Off bool
	Key string // the public key's address
	APT aptLines
	DNF dnfLines
}

type aptLines struct {
	Keyring, KeyringCommand string
	SourcesPath, Sources    string
	ListLine                string
	AuthPath, Auth          string
	AuthCommand             string
}

type dnfLines struct {
	Path, Repo, Command string
}

// mountAccount registers the customer's repository page of a license.
func (h *handler) mountAccount() error {
	pages, err := h.NewPages("repos", templates, web.Public, nil)
	if err != nil {
		return err
	}
	h.pages = pages
	h.Handle("GET /account/licenses/{id}/repository", h.accountRepository)
	return nil
}

// accountRepository shows a signed-in customer the repository lines of
// one of their own licenses.
func (h *handler) accountRepository(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := h.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	id, err := input.Line("id", "The license", 64, r.PathValue("id"))
	if err != nil || !strings.HasPrefix(id, "lic_") {
		return web.NotFound(msgNoLicense)
	}
	l, err := licensing.ByLicenseID(r.Context(), h.db, id, h.clock.Now())
	if errors.Is(err, licensing.ErrNotFound) || (err == nil && l.CustomerID != c.ID) {
		return web.NotFound(msgNoLicense)
	}
	if err != nil {
		return err
	}
	page := repositoryPage{License: l, Product: l.Product}
	if p, err := catalog.ProductBySlug(r.Context(), h.db, l.Product); err == nil {
		page.Product = p.Name
	}
	switch msg := closed(l); {
	case h.signer == nil:
		page.Off = true
	case msg != "":
		page.Closed = msg
	default:
		page.APT, page.DNF, page.Key = h.lines(l, page.Product)
	}
	// The page carries the key: it stays out of caches.
	web.NoStore(w)
	return h.Render(w, r, http.StatusOK, h.pages, "repository.html", "Package repository for "+page.Product, page)
}

// lines are what a server needs for l's product: the key file, the
// source and the credentials (apt_auth.conf(5), whose entry names the
// host and path without a scheme, which apt matches for https only; on a
// plain-http site, the demo's, it names the scheme, as apt then needs).
func (h *handler) lines(l licensing.License, name string) (aptLines, dnfLines, string) {
	base := h.BaseURL()
	root := strings.TrimSuffix(base.String(), "/")
	p := l.Product
	key := root + KeyPathArmored
	machine := base.Host + strings.TrimSuffix(base.Path, "/") + "/apt/" + p
	if base.Scheme != "https" {
		machine = base.Scheme + "://" + machine
	}
	var a aptLines
	a.Keyring = "/etc/apt/keyrings/" + p + ".asc"
	a.KeyringCommand = fmt.Sprintf("sudo install -d -m 0755 /etc/apt/keyrings\ncurl -fsSL %s | sudo tee %s >/dev/null", key, a.Keyring)
	a.SourcesPath = "/etc/apt/sources.list.d/" + p + ".sources"
	a.Sources = fmt.Sprintf("Types: deb\nURIs: %s/apt/%s\nSuites: stable\nComponents: main\nSigned-By: %s\n", root, p, a.Keyring)
	a.ListLine = fmt.Sprintf("deb [signed-by=%s] %s/apt/%s stable main", a.Keyring, root, p)
	a.AuthPath = "/etc/apt/auth.conf.d/" + p + ".conf"
	a.Auth = fmt.Sprintf("machine %s login license password %s\n", machine, l.Key)
	a.AuthCommand = fmt.Sprintf("sudo chmod 600 %s", a.AuthPath)
	var d dnfLines
	d.Path = "/etc/yum.repos.d/" + p + ".repo"
	d.Repo = fmt.Sprintf("[%s]\nname=%s\nbaseurl=%s/yum/%s/stable/\nusername=license\npassword=%s\nrepo_gpgcheck=1\ngpgcheck=0\ngpgkey=%s\nenabled=1\n",
		p, name, root, p, l.Key, key)
	d.Command = fmt.Sprintf("sudo chmod 600 %s", d.Path)
	return a, d, key
}
