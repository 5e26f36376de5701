package privacy

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// TextLines turns a policy's HTML into the plain text the archive
// compares: one line per heading, paragraph, list item, term, definition
// and table row (its cells joined by " | "), whitespace collapsed;
// headings start with "#" per level, list items with "- ". Markup that
// does not change what a reader reads (attributes, classes) leaves the
// text alone, so the differences shown are differences of words.
func TextLines(src string) string {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return ""
	}
	var lines []string
	var cur strings.Builder
	flush := func() {
		// A line that is only a marker ("- ", "## ") holds no words.
		if s := strings.Join(strings.Fields(cur.String()), " "); strings.Trim(s, "#- |") != "" {
			lines = append(lines, s)
		}
		cur.Reset()
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			cur.WriteString(n.Data)
			return
		case html.ElementNode:
			switch n.DataAtom {
			case atom.Script, atom.Style, atom.Template:
				return
			case atom.Br:
				flush()
				return
			}
		}
		block := n.Type == html.ElementNode && blockElements[n.DataAtom]
		if block {
			flush()
			switch n.DataAtom {
			case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
				cur.WriteString(strings.Repeat("#", int(n.Data[1]-'0')) + " ")
			case atom.Li:
				cur.WriteString("- ")
			}
		}
		if n.Type == html.ElementNode && (n.DataAtom == atom.Td || n.DataAtom == atom.Th) && strings.TrimSpace(cur.String()) != "" {
			cur.WriteString(" | ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if block {
			flush()
		}
	}
	walk(doc)
	flush()
	return strings.Join(lines, "\n")
}

var blockElements = map[atom.Atom]bool{
	atom.P: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Li: true, atom.Dt: true, atom.Dd: true, atom.Tr: true, atom.Caption: true, atom.Address: true,
	atom.Blockquote: true, atom.Pre: true, atom.Div: true, atom.Section: true, atom.Aside: true,
	atom.Ul: true, atom.Ol: true, atom.Dl: true, atom.Table: true, atom.Nav: true, atom.Article: true,
}

// Op is what a line of a comparison did.
type Op byte

// The ops of a comparison.
const (
	Same    Op = ' '
	Added   Op = '+'
	Removed Op = '-'
)

// DiffLine is a line of a comparison of two texts.
type DiffLine struct {
	Op   Op
	Text string
}

// Diff compares two texts line by line (a longest common subsequence, so
// lines that stay are never shown as removed and added again) and returns
// every line, in order, with what happened to it.
func Diff(old, new string) []DiffLine {
	a, b := splitLines(old), splitLines(new)
	// Lines equal at both ends need no table.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	out := make([]DiffLine, 0, len(a)+len(b))
	for _, l := range a[:pre] {
		out = append(out, DiffLine{Same, l})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	// lcs[i][j] is the length of the longest common subsequence of
	// ma[i:] and mb[j:].
	lcs := make([][]int32, len(ma)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(mb)+1)
	}
	for i := len(ma) - 1; i >= 0; i-- {
		for j := len(mb) - 1; j >= 0; j-- {
			if ma[i] == mb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(ma) || j < len(mb) {
		switch {
		case i < len(ma) && j < len(mb) && ma[i] == mb[j]:
			out = append(out, DiffLine{Same, ma[i]})
			i, j = i+1, j+1
		case i < len(ma) && (j == len(mb) || lcs[i+1][j] >= lcs[i][j+1]):
			// What went comes before what replaced it.
			out = append(out, DiffLine{Removed, ma[i]})
			i++
		default:
			out = append(out, DiffLine{Added, mb[j]})
			j++
		}
	}
	for _, l := range a[len(a)-suf:] {
		out = append(out, DiffLine{Same, l})
	}
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

// Hunk is a run of a comparison around changes, with up to Context
// unchanged lines on either side; Skipped counts the unchanged lines
// left out before it.
type Hunk struct {
	Skipped int
	Lines   []DiffLine
}

// Hunks groups a comparison into the changes with context lines of
// unchanged text around each; no hunk when nothing changed.
func Hunks(d []DiffLine, context int) []Hunk {
	var out []Hunk
	last := 0 // first line not yet shown
	for i := 0; i < len(d); {
		if d[i].Op == Same {
			i++
			continue
		}
		start := max(last, i-context)
		end := i
		// Extend over changes closer together than twice the context.
		for end < len(d) {
			if d[end].Op != Same {
				end++
				continue
			}
			k := end
			for k < len(d) && d[k].Op == Same {
				k++
			}
			if k == len(d) || k-end > 2*context {
				end = min(len(d), end+context)
				break
			}
			end = k
		}
		out = append(out, Hunk{Skipped: start - last, Lines: d[start:end]})
		last, i = end, end
	}
	return out
}
