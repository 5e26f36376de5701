package mailmsg

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// cleanText makes body text safe to store and show: valid UTF-8, "\n"
// line ends, no control characters but "\n" and "\t", no byte order mark,
// no trailing blank lines.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\u2028' || r == '\u2029':
			return '\n'
		case unicode.IsControl(r) || r == '\uFEFF':
			return -1
		}
		return r
	}, s)
	return strings.TrimRight(s, " \t\n")
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// decodeFlowed joins the soft line breaks of format=flowed text (RFC 3676):
// a line ending in a space continues on the next line of the same quote
// depth. Space-stuffing is undone; with delsp=yes the space of a soft
// break is removed too.
func decodeFlowed(s string, delsp bool) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	var out strings.Builder
	open := false // the last line written was a soft break
	openDepth := 0
	for _, line := range lines {
		depth := 0
		for depth < len(line) && line[depth] == '>' {
			depth++
		}
		content := line[depth:]
		content = strings.TrimPrefix(content, " ") // space-stuffing, or the space after ">"
		if open && depth != openDepth {
			out.WriteByte('\n') // a soft break never joins different depths
			open = false
		}
		if !open && depth > 0 {
			out.WriteString(strings.Repeat(">", depth) + " ")
		}
		soft := strings.HasSuffix(content, " ") && content != "-- "
		if soft && delsp {
			content = content[:len(content)-1]
		}
		out.WriteString(content)
		if soft {
			open, openDepth = true, depth
			continue
		}
		open = false
		out.WriteByte('\n')
	}
	return strings.TrimSuffix(out.String(), "\n")
}

// htmlToText reduces HTML to readable text: script, style and head are
// dropped, block elements end lines, list items get "- ", and the content
// of a blockquote is quoted with "> " so that Reply finds the quote of an
// HTML-only reply.
func htmlToText(s string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	z.SetMaxBuf(4 << 20)
	skip, skipDepth := "", 0
	quote := 0        // blockquote depth
	lineStart := true // nothing written on the current line yet
	newline := func() {
		b.WriteByte('\n')
		lineStart = true
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidyLines(b.String())
		case html.TextToken:
			if skip != "" {
				continue
			}
			raw := z.Text()
			text := strings.Join(strings.Fields(string(raw)), " ")
			if text == "" {
				if !lineStart && len(raw) > 0 {
					b.WriteByte(' ')
				}
				continue
			}
			if lineStart && quote > 0 {
				b.WriteString(strings.Repeat("> ", quote))
			}
			// Keep the spaces around the text that the source had.
			if !lineStart && unicode.IsSpace(rune(raw[0])) {
				b.WriteByte(' ')
			}
			b.WriteString(text)
			if unicode.IsSpace(rune(raw[len(raw)-1])) {
				b.WriteByte(' ')
			}
			lineStart = false
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			if skip != "" {
				switch {
				case tag != skip:
				case tt == html.StartTagToken:
					skipDepth++
				case tt == html.EndTagToken:
					if skipDepth--; skipDepth == 0 {
						skip = ""
					}
				}
				continue
			}
			if tt == html.StartTagToken && skippedElements[tag] {
				skip, skipDepth = tag, 1
				continue
			}
			switch {
			case tag == "blockquote" && tt == html.StartTagToken:
				newline()
				quote++
			case tag == "blockquote" && tt == html.EndTagToken:
				if quote > 0 {
					quote--
				}
				newline()
			case tag == "br" || tag == "hr":
				newline()
			case tag == "li" && tt != html.EndTagToken:
				newline()
				if quote > 0 {
					b.WriteString(strings.Repeat("> ", quote))
				}
				b.WriteString("- ")
				lineStart = false
			case blockElements[tag]:
				newline()
			case (tag == "td" || tag == "th") && tt == html.EndTagToken:
				b.WriteByte(' ')
			}
		}
	}
}

// skippedElements have content that is not text for the reader.
var skippedElements = map[string]bool{"script": true, "style": true, "head": true, "title": true, "template": true, "noscript": true}

// blockElements start and end a line.
var blockElements = map[string]bool{"p": true, "div": true, "tr": true, "h1": true, "h2": true, "h3": true,
	"h4": true, "h5": true, "h6": true, "ul": true, "ol": true, "table": true, "pre": true, "dl": true,
	"dt": true, "dd": true, "address": true, "center": true, "section": true, "article": true, "header": true, "footer": true, "li": true}

// tidyLines trims each line, keeps at most one blank line in a row, and
// drops quote lines that hold only the quote mark.
func tidyLines(s string) string {
	var out []string
	blank := true
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if strings.Trim(l, "> ") == "" && strings.HasPrefix(l, ">") {
			l = ""
		}
		if l == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, l)
		blank = false
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
