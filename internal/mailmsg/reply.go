package mailmsg

import (
	"regexp"
	"strings"
)

// Reply returns the new part of a reply: the text above the quoted
// original and the signature. It cuts at the first of
//
//   - an attribution line, "On <date>, <name> wrote:" and its German,
//     French, Dutch and Spanish forms, also wrapped over two or three lines
//     (Gmail wraps a long one inside the address);
//   - "-----Original Message-----" and its translations (Outlook);
//   - a header block of the original, "From: ..." followed by "Sent: ..."
//     or "Date: ..." (Outlook, also in German and French), with the line
//     of underscores Outlook puts above it;
//   - a line quoted with ">" (Apple Mail, Thunderbird, mutt);
//   - the signature delimiter "-- ".
//
// A bottom-posted reply has nothing above the quote: then the lines that
// are not quoted are returned. Reply never returns "" for a text that is
// not blank: when nothing else is left it returns the whole text, trimmed.
func Reply(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	cut := len(lines)
	for i := range lines {
		if startsOriginal(lines, i) {
			cut = i
			break
		}
	}
	// An attribution ("Max wrote:") right above the quote goes with it.
	for cut > 0 && cut < len(lines) && isQuote(lines[cut]) {
		j := cut - 1
		for j >= 0 && strings.TrimSpace(lines[j]) == "" {
			j--
		}
		if j < 0 || !isWrote(norm(lines[j])) {
			break
		}
		cut = j
	}
	if s := strings.TrimSpace(strings.Join(lines[:cut], "\n")); s != "" {
		return s
	}
	if s := unquoted(lines); s != "" {
		return s
	}
	return strings.TrimSpace(text)
}

// startsOriginal reports whether lines[i] starts the quoted original or the
// signature.
func startsOriginal(lines []string, i int) bool {
	raw := strings.TrimRight(lines[i], "\r")
	if raw == "-- " || raw == "--" {
		return true
	}
	t := norm(raw)
	switch {
	case t == "":
		return false
	case isQuote(raw):
		return true
	case isOriginalMessage(t):
		return true
	case underscores.MatchString(t):
		// Outlook's line above the header block.
		for j := i + 1; j < len(lines) && j <= i+2; j++ {
			if fromLine.MatchString(norm(lines[j])) {
				return true
			}
		}
		return false
	case fromLine.MatchString(t):
		return headerBlock(lines, i)
	}
	if !attributionStart.MatchString(t) {
		return false
	}
	joined := t
	for j := i; j < len(lines) && j < i+3; j++ {
		if j > i {
			joined += " " + norm(lines[j])
		}
		if len(joined) > 400 {
			return false
		}
		if attribution.MatchString(joined) {
			return true
		}
	}
	return false
}

// headerBlock reports a "From:" line followed within four lines by a
// "Sent:" or "Date:" line: the header of the quoted original.
func headerBlock(lines []string, i int) bool {
	for j := i + 1; j < len(lines) && j <= i+4; j++ {
		if sentLine.MatchString(norm(lines[j])) {
			return true
		}
	}
	return false
}

// unquoted is the text without quoted lines, attributions, the original's
// header and the signature: the answer of a bottom-posted reply.
func unquoted(lines []string) string {
	var out []string
	for i, l := range lines {
		raw := strings.TrimRight(l, "\r")
		if raw == "-- " || raw == "--" {
			break
		}
		t := norm(raw)
		if isQuote(raw) || isWrote(t) || isOriginalMessage(t) {
			continue
		}
		if attributionStart.MatchString(t) && startsOriginal(lines, i) {
			continue
		}
		out = append(out, raw)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// isWrote reports an attribution without a date. The cheap tests come
// first: the pattern's bounded repetition is slow on long lines.
func isWrote(t string) bool {
	return len(t) <= 400 && strings.HasSuffix(t, ":") && wroteLine.MatchString(t)
}

func isQuote(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " \t"), ">")
}

// norm trims a line, makes no-break spaces plain and drops the asterisks
// of a bold "*From:*" in text made from HTML.
func norm(s string) string {
	return strings.TrimSpace(normReplacer.Replace(s))
}

var normReplacer = strings.NewReplacer("\u00a0", " ", "\u202f", " ", "\t", " ", "*", "")

var (
	originalMessage = regexp.MustCompile(`(?i)^-{2,}\s*(original message|ursprüngliche nachricht|originalnachricht|message d'origine|message original|mensaje original|oorspronkelijk bericht)\s*-{2,}$`)
	underscores     = regexp.MustCompile(`^_{10,}$`)
	fromLine        = regexp.MustCompile(`(?i)^(from|von|de|van|da)\s?:\s*\S`)
	sentLine        = regexp.MustCompile(`(?i)^(sent|date|gesendet|datum|envoyé|verzonden|enviado|fecha|inviato)\s?:\s*\S`)
	// attributionStart is how the attribution lines begin in each
	// language: "On", "Am", "Le", "Op", "El".
	attributionStart = regexp.MustCompile(`^(On|Am|Le|Op|El)\s`)
	attribution      = regexp.MustCompile(`^(On\s.+\swrote|Am\s.+\sschrieb.*|Le\s.+\sa écrit|Op\s.+\sschreef.*|El\s.+\sescribió)\s?:$`)
	// wroteLine is an attribution without a date: "Max <max@example.com> wrote:".
	wroteLine = regexp.MustCompile(`(?i)^.{0,300}\s(wrote|schrieb|a écrit|schreef|escribió)\s?:$`)
)

// isOriginalMessage reports Outlook's "-----Original Message-----" line.
func isOriginalMessage(t string) bool {
	return len(t) <= 100 && strings.HasPrefix(t, "--") && originalMessage.MatchString(t)
}
