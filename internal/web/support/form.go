package support

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/web"
)

// maxMessageRunes is the longest message the forms take: a long log
// belongs in an attached file.
const maxMessageRunes = 50000

// maxParts caps the parts of a multipart form: its few fields and files.
const maxParts = 20 + support.MaxUploads

// submitted is what a support form sent: its text fields as typed and
// its files.
type submitted struct {
	values  map[string]string
	uploads []support.Upload
	// fileErr refuses the files (too many, too large, files where none
	// may be attached); the text fields are read either way, so the form
	// comes back with everything typed.
	fileErr error
}

func (f submitted) get(name string) string { return f.values[name] }

// readForm reads a form sent url-encoded or as multipart/form-data. A
// multipart body is read part by part: text fields up to what their
// check accepts, files up to support.MaxUploadBytes each, the rest of a
// refused file discarded. withFiles false refuses any file.
func readForm(r *http.Request, withFiles bool) (submitted, error) {
	f := submitted{values: map[string]string{}}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		if err := web.ParseForm(r); err != nil {
			return f, err
		}
		for k := range r.PostForm {
			f.values[k] = r.PostForm.Get(k)
		}
		return f, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return f, web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	unreadable := web.BadRequest("The form could not be read. Reload the page and try again.")
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		if err != nil {
			return f, tooLargeOr(err, unreadable)
		}
		if n >= maxParts {
			return f, unreadable
		}
		name := part.FormName()
		if part.FileName() == "" && name != "files" {
			// A text field: at most what any check of ours accepts.
			b, err := io.ReadAll(io.LimitReader(part, 4*maxMessageRunes+1024+1))
			if err != nil {
				return f, tooLargeOr(err, unreadable)
			}
			if _, seen := f.values[name]; !seen {
				f.values[name] = string(b)
			}
			continue
		}
		if err := f.readFile(part, withFiles); err != nil {
			return f, tooLargeOr(err, unreadable)
		}
	}
}

func (f *submitted) readFile(p *multipart.Part, withFiles bool) error {
	fileName := p.FileName()
	if fileName == "" {
		// A file input left empty sends an empty part without a name.
		_, err := io.Copy(io.Discard, p)
		return err
	}
	switch {
	case f.fileErr != nil:
	case !withFiles:
		f.fileErr = refuse.Field("files", "Files can be attached once you are signed in. Send your message without them, or sign in first.")
	case len(f.uploads) >= support.MaxUploads:
		f.fileErr = refuse.Field("files", fmt.Sprintf("Attach at most %d files.", support.MaxUploads))
	}
	if f.fileErr != nil {
		_, err := io.Copy(io.Discard, p)
		return err
	}
	data, err := io.ReadAll(io.LimitReader(p, support.MaxUploadBytes+1))
	if err != nil {
		return err
	}
	name, ok := cleanFileName(fileName)
	switch {
	case len(data) > support.MaxUploadBytes:
		f.fileErr = refuse.Field("files", fmt.Sprintf("%s is larger than %d MiB: attach a smaller file, or a compressed one.", name, support.MaxUploadBytes>>20))
		_, err := io.Copy(io.Discard, p)
		return err
	case !ok:
		f.fileErr = refuse.Field("files", "A file's name cannot be used: rename the file (letters, digits, dots and dashes) and attach it again.")
		return nil
	}
	f.uploads = append(f.uploads, support.Upload{Filename: name, ContentType: mediaType(p.Header.Get("Content-Type")), Data: data})
	return nil
}

// cleanFileName keeps the last element of the name a browser sent (some
// send a Windows path), as text a person can read.
func cleanFileName(s string) (string, bool) {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s, err := input.Line("files", "The file's name", 200, s)
	if err != nil || s == "" || s == "." || s == ".." || strings.ContainsRune(s, 0) {
		return "", false
	}
	return s, true
}

// mediaType is the type a file was sent with, as a bare media type, or
// application/octet-stream when it has none usable.
func mediaType(header string) string {
	mt, _, err := mime.ParseMediaType(header)
	if err != nil || mt == "" || len(mt) > 100 || !strings.Contains(mt, "/") {
		return "application/octet-stream"
	}
	return mt
}

// tooLargeOr is the body's size error when err is one (the core answers
// 413), else other.
func tooLargeOr(err, other error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return tooLarge
	}
	return other
}

// fieldErrors collects the refusals of one form by field, for the
// messages shown next to the fields; the form's own names are used
// ("message" for the domain's "text").
type fieldErrors map[string]string

func (e fieldErrors) add(err error) bool {
	re, ok := refuse.As(err)
	if !ok || re.Kind != refuse.Invalid {
		return false
	}
	field := re.Field
	switch field {
	case "text":
		field = "message"
	case "":
		field = "form"
	}
	if _, seen := e[field]; !seen {
		e[field] = sentence(re.Msg)
	}
	return true
}

// sentence starts a domain's message with a capital and ends it with a
// full stop, as the pages write theirs.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}
