package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// assets are the embedded static files under content-hashed names
// ("style.css" is served as "/static/style.1a2b3c4d5e6f.css"). A new build
// with a changed file gets a new name, so browsers may cache every file for
// a year without ever using a stale one.
type assets struct {
	urls  map[string]string // logical name -> URL
	files map[string]asset  // hashed name -> file
}

type asset struct {
	body []byte
	etag string
}

func loadAssets() (*assets, error) {
	a := &assets{urls: map[string]string{}, files: map[string]asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:6])
		name := path.Base(p)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hash + ext
		a.urls[name] = "/static/" + hashed
		a.files[hashed] = asset{body: body, etag: `"` + hash + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: load static files: %w", err)
	}
	return a, nil
}

// url returns the address of the static file name; templates call it as
// {{static "style.css"}}. An unknown name fails the template, and with it
// the tests.
func (a *assets) url(name string) (string, error) {
	u, ok := a.urls[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return u, nil
}

// static serves a file under its hashed name.
func (s *Server) static(w http.ResponseWriter, r *http.Request) error {
	f, ok := s.assets.files[r.PathValue("file")]
	if !ok {
		return NotFound(MsgNotFound)
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", f.etag)
	if ct := mime.TypeByExtension(path.Ext(r.PathValue("file"))); ct != "" {
		h.Set("Content-Type", ct)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
	return nil
}
