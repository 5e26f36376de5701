package downloads

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/releases"
)

// ContentType is the media type a file is served with: the package types
// for .deb and .rpm, the compression's for a tarball, else from the name,
// else application/octet-stream.
func ContentType(a releases.Artifact) string {
	switch a.Kind {
	case releases.Deb:
		return "application/vnd.debian.binary-package"
	case releases.RPM:
		return "application/x-rpm"
	}
	name := strings.ToLower(a.FileName)
	for _, s := range []struct{ suffix, typ string }{
		{".tar.gz", "application/gzip"}, {".tgz", "application/gzip"}, {".tar.xz", "application/x-xz"},
		{".tar.zst", "application/zstd"}, {".tar.bz2", "application/x-bzip2"}, {".tar", "application/x-tar"},
		{".zip", "application/zip"},
	} {
		if strings.HasSuffix(name, s.suffix) {
			return s.typ
		}
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		if t := mime.TypeByExtension(name[i:]); t != "" && !strings.HasPrefix(t, "text/html") {
			return t
		}
	}
	return "application/octet-stream"
}

// osFile is what a Blob backed by a file offers, so the kernel can send it
// (sendfile) instead of copying it through user space.
type osFile interface{ OSFile() *os.File }

// Serve sends artifact a from store: with its length, its content type, a
// Content-Disposition naming it, its SHA-256 as the ETag, and Range
// support (resumable downloads, If-Range) from net/http's ServeContent.
// The bytes stream from the store and never sit in memory. A download may
// take long on a slow line, so the connection's write deadline (wall
// clock: it is a network deadline) is set from the size, at 32 KiB/s,
// capped at twelve hours.
func Serve(w http.ResponseWriter, r *http.Request, store releases.Store, a releases.Artifact) error {
	b, err := store.Open(r.Context(), a.StoreKey)
	if err != nil {
		return fmt.Errorf("open %s: %w", a.FileName, err)
	}
	defer b.Close()
	if b.Size() != a.Size {
		return fmt.Errorf("stored %s has %d bytes, its record says %d", a.FileName, b.Size(), a.Size)
	}
	h := w.Header()
	h.Set("Content-Type", ContentType(a))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.FileName}))
	h.Set("ETag", `"`+a.SHA256+`"`)
	h.Set("Cache-Control", "private, no-transform")
	h.Set("X-Checksum-Sha256", a.SHA256)
	extendWrite(w, a.Size)
	var content io.ReadSeeker = b
	if f, ok := b.(osFile); ok {
		content = f.OSFile()
	}
	http.ServeContent(w, r, "", b.ModTime(), content)
	return nil
}

// ServeSignature sends an artifact's minisign signature file.
func ServeSignature(w http.ResponseWriter, a releases.Artifact) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.FileName + ".minisig"}))
	h.Set("Content-Length", strconv.Itoa(len(a.Signature)))
	_, _ = io.WriteString(w, a.Signature)
}

func extendWrite(w http.ResponseWriter, size int64) {
	d := time.Minute + time.Duration(size/(32<<10))*time.Second
	d = min(d, 12*time.Hour)
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
}

// FirstByte is where a request's Range starts: 0 without one or for a
// range counted from the end. It tells a new download from a resumed one
// in the log.
func FirstByte(r *http.Request) int64 {
	v, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes=")
	if !ok {
		return 0
	}
	v, _, _ = strings.Cut(v, "-")
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// SendsNothing reports a request that Serve answers without sending any
// of a's bytes, so that it is not logged as a download: a range that
// starts at or beyond the file's end (416: "curl -C -" of a file already
// complete) or a conditional GET for the copy the client has (304).
// What it cannot tell for sure it leaves to be logged.
func SendsNothing(r *http.Request, a releases.Artifact) bool {
	// With an If-Range of another version the range is ignored and the
	// whole file sent; a date is not compared here, so it counts.
	ifRange := r.Header.Get("If-Range")
	if r.Header.Get("Range") != "" && FirstByte(r) >= a.Size && (ifRange == "" || ifRange == `"`+a.SHA256+`"`) {
		return true
	}
	for t := range strings.SplitSeq(r.Header.Get("If-None-Match"), ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == `"`+a.SHA256+`"` {
			return true
		}
	}
	return false
}
