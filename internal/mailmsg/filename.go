package mailmsg

import (
	"bytes"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxFilenameBytes caps a kept file name.
const maxFilenameBytes = 200

// safeFilename reduces a name from the message to a base name that is safe
// to store and to offer for download: no directories, no control or
// direction characters, no leading dots, at most 200 bytes with its
// extension kept. An empty result becomes "attachment-N" with an
// extension for the type when one is known.
func safeFilename(name string, n int, ct string) string {
	name = strings.ToValidUTF8(name, "_")
	// Both separators: a name written on Windows is "C:\Users\x\a.pdf".
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), isBidiControl(r), r == '\u2028', r == '\u2029', r == '\uFEFF':
			return -1
		case strings.ContainsRune(`:*?"<>|`, r):
			// Names that Windows cannot save.
			return '_'
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, name)
	name = strings.Join(strings.Fields(name), " ")
	// Leading dots hide a file (or make ".." of it); trailing dots and
	// spaces are dropped by Windows, which would make "a.exe." an .exe.
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, ". ")
	if len(name) > maxFilenameBytes {
		ext := path.Ext(name)
		if len(ext) > 20 || !utf8.ValidString(ext) {
			ext = ""
		}
		name = cutUTF8(name[:len(name)-len(ext)], maxFilenameBytes-len(ext)) + ext
	}
	if name == "" {
		name = "attachment-" + strconv.Itoa(n) + extensionFor(ct)
	}
	return name
}

// extensionFor is a fixed table, so names do not depend on the host's
// /etc/mime.types.
func extensionFor(ct string) string {
	switch ct {
	case "image/png":
		return ".png"
	case "image/jpeg", "image/jpg", "image/pjpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "application/pdf":
		return ".pdf"
	case "text/plain", "message/delivery-status", "message/feedback-report",
		"message/disposition-notification", "text/rfc822-headers":
		return ".txt"
	case "text/html":
		return ".html"
	case "text/csv":
		return ".csv"
	case "text/calendar":
		return ".ics"
	case "message/rfc822", "message/global":
		return ".eml"
	case "application/pgp-signature", "application/pgp-encrypted", "application/pgp-keys":
		return ".asc"
	case "application/pkcs7-signature", "application/x-pkcs7-signature":
		return ".p7s"
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		return ".p7m"
	case "application/zip":
		return ".zip"
	case "application/json":
		return ".json"
	case "application/xml", "text/xml":
		return ".xml"
	case "application/ms-tnef", "application/vnd.ms-tnef":
		return ".dat"
	}
	return ""
}

// refusedExtensions are programs and scripts that Windows runs on a
// double-click, and Java archives.
var refusedExtensions = map[string]bool{
	".exe": true, ".com": true, ".bat": true, ".cmd": true, ".scr": true, ".pif": true,
	".cpl": true, ".dll": true, ".sys": true, ".ocx": true, ".drv": true,
	".msi": true, ".msp": true, ".mst": true, ".msc": true,
	".js": true, ".jse": true, ".vbs": true, ".vbe": true, ".vb": true, ".wsf": true, ".wsh": true, ".wsc": true,
	".ps1": true, ".ps1xml": true, ".ps2": true, ".psc1": true, ".psm1": true, ".psd1": true,
	".hta": true, ".lnk": true, ".inf": true, ".reg": true, ".scf": true, ".sct": true, ".shb": true,
	".jar": true, ".appref-ms": true, ".application": true, ".gadget": true, ".chm": true,
	".iso": true, ".img": true, ".vhd": true, ".vhdx": true,
}

// refusedName reports a name whose extension is in refusedExtensions.
func refusedName(name string) bool {
	return refusedExtensions[strings.ToLower(path.Ext(name))]
}

// refusedTypes are the declared types of the same programs.
var refusedTypes = map[string]bool{
	"application/x-msdownload": true, "application/x-msdos-program": true, "application/x-dosexec": true,
	"application/x-executable": true, "application/vnd.microsoft.portable-executable": true,
	"application/x-ms-installer": true, "application/x-msi": true, "application/x-ms-shortcut": true,
	"application/java-archive": true, "application/x-java-archive": true,
	"application/javascript": true, "application/x-javascript": true, "text/javascript": true,
	"application/hta": true, "text/vbscript": true, "application/x-vbscript": true,
	"application/x-bat": true, "application/x-msdos-batch": true,
}

func refusedType(ct string) bool { return refusedTypes[ct] }

// executable reports data that is a native program, whatever its name
// says: a Windows PE or DOS program ("MZ"), ELF, or Mach-O.
func executable(data []byte) bool {
	switch {
	case bytes.HasPrefix(data, []byte("MZ")):
		return true
	case bytes.HasPrefix(data, []byte("\x7fELF")):
		return true
	case bytes.HasPrefix(data, []byte{0xfe, 0xed, 0xfa, 0xce}), bytes.HasPrefix(data, []byte{0xfe, 0xed, 0xfa, 0xcf}),
		bytes.HasPrefix(data, []byte{0xce, 0xfa, 0xed, 0xfe}), bytes.HasPrefix(data, []byte{0xcf, 0xfa, 0xed, 0xfe}):
		return true
	}
	return refusedType(sniff(data))
}

// sniff is the type the data looks like, without parameters.
func sniff(data []byte) string {
	t := http.DetectContentType(data)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return strings.TrimSpace(t)
}
