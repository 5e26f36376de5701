package supportdesk

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/web"
)

// uploadForm is a submitted form that may carry files: its fields, its
// files and, when the files break a limit, the refusal to show.
type uploadForm struct {
	Values  url.Values
	Files   []support.Upload
	Refusal error
}

// maxField caps one text field of a multipart form.
const maxField = support.MaxTextBytes + 1024

// readUploadForm reads a url-encoded form, or a multipart one part by
// part: no file is buffered beyond its limit or spilled to disk by the
// form parser. Too many files, or one too large, is a refusal shown with
// the form; the rest of the body is still read so that the answer reaches
// the browser.
func readUploadForm(r *http.Request) (uploadForm, error) {
	f := uploadForm{Values: url.Values{}}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		if err := web.ParseForm(r); err != nil {
			return f, err
		}
		f.Values = r.PostForm
		return f, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return f, web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		if err != nil {
			return f, tooLargeOr(err)
		}
		name := part.FormName()
		if part.FileName() == "" && name != "files" {
			b, err := io.ReadAll(io.LimitReader(part, maxField+1))
			if err != nil {
				return f, tooLargeOr(err)
			}
			if len(b) > maxField {
				f.Refusal = refuse.Field(name, "the text is too long: shorten it, or attach it as a file")
				continue
			}
			f.Values.Add(name, string(b))
			continue
		}
		if name != "files" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, support.MaxUploadBytes+1))
		if err != nil {
			return f, tooLargeOr(err)
		}
		if part.FileName() == "" && len(b) == 0 {
			continue // the file input left empty
		}
		if f.Refusal != nil {
			continue
		}
		if len(b) > support.MaxUploadBytes {
			f.Refusal = refuse.Field("files", fmt.Sprintf("%s is larger than %d MiB: attach a smaller file, or a compressed one", part.FileName(), support.MaxUploadBytes>>20))
			f.Files = nil
			continue
		}
		if len(f.Files) == support.MaxUploads {
			f.Refusal = refuse.Field("files", fmt.Sprintf("attach at most %d files", support.MaxUploads))
			f.Files = nil
			continue
		}
		ctype := part.Header.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ctype); err != nil || mt == "" {
			ctype = "application/octet-stream"
		} else {
			ctype = mt
		}
		f.Files = append(f.Files, support.Upload{Filename: part.FileName(), ContentType: ctype, Data: b})
	}
}

func tooLargeOr(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return err
	}
	return web.BadRequest("The form could not be read. Reload the page and try again.")
}

// safeTypes are the stored types an attachment is served as; anything
// else goes out as application/octet-stream. All go out as downloads, in
// a sandbox, never sniffed.
var safeTypes = map[string]bool{
	"text/plain": true, "application/pdf": true, "image/png": true, "image/jpeg": true, "image/gif": true,
	"application/zip": true, "application/gzip": true, "application/x-gzip": true, "application/x-tar": true,
	"message/rfc822": true, "application/json": true,
}

// serveDownload writes data as a file to save, never to render.
func serveDownload(w http.ResponseWriter, filename, ctype string, data []byte) error {
	h := w.Header()
	if mt, _, err := mime.ParseMediaType(ctype); err == nil && safeTypes[strings.ToLower(mt)] {
		ctype = strings.ToLower(mt)
	} else {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	web.NoStore(w)
	_, err := w.Write(data)
	return err
}

// attachmentName keeps a stored file name safe for the header.
func attachmentName(name, fallback string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' || r == '"' {
			return '_'
		}
		return r
	}, name)
	if strings.Trim(name, "._ ") == "" {
		return fallback
	}
	return name
}

func (s *handler) attachment(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	fid, err := web.PathID(r, "file")
	if err != nil {
		return err
	}
	a, data, err := s.desk.Attachment(r.Context(), id, fid, true)
	if errors.Is(err, support.ErrNotFound) {
		return web.NotFound("There is no such file in this ticket.")
	}
	if err != nil {
		return err
	}
	if err := s.RecordView(r, "support_ticket", web.Itoa(id), "attachment "+web.Itoa(a.ID)); err != nil {
		return err
	}
	return serveDownload(w, attachmentName(a.Filename, "attachment-"+web.Itoa(a.ID)), a.ContentType, data)
}

func (s *handler) raw(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	mid, err := web.PathID(r, "message")
	if err != nil {
		return err
	}
	raw, err := s.desk.Raw(r.Context(), id, mid)
	if errors.Is(err, support.ErrNotFound) {
		return web.NotFound("This message has no raw mail kept.")
	}
	if err != nil {
		return err
	}
	if err := s.RecordView(r, "support_ticket", web.Itoa(id), "raw mail of message "+web.Itoa(mid)); err != nil {
		return err
	}
	return serveDownload(w, "ticket-"+web.Itoa(id)+"-message-"+web.Itoa(mid)+".eml", "message/rfc822", raw)
}
