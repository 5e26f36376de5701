package svgchart_test

import (
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/web/svgchart"
)

// node is an SVG element as encoding/xml reads it, with its children.
type node struct {
	Name  string
	Attr  map[string]string
	Text  string
	Kids  []*node
	Outer *node
}

// parse reads the chart as XML: it fails the test when the output is not
// well formed, which an unescaped label would make it.
func parse(t *testing.T, svg string) *node {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	root := &node{Name: "#root"}
	cur := root
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{Name: tok.Name.Local, Attr: map[string]string{}, Outer: cur}
			for _, a := range tok.Attr {
				n.Attr[a.Name.Local] = a.Value
			}
			cur.Kids = append(cur.Kids, n)
			cur = n
		case xml.EndElement:
			cur = cur.Outer
		case xml.CharData:
			cur.Text += string(tok)
		}
	}
	if len(root.Kids) != 1 || root.Kids[0].Name != "svg" {
		t.Fatalf("want one <svg> element, got %d elements", len(root.Kids))
	}
	return root.Kids[0]
}

func (n *node) all(name string) []*node {
	var out []*node
	for _, k := range n.Kids {
		if k.Name == name {
			out = append(out, k)
		}
		out = append(out, k.all(name)...)
	}
	return out
}

func (n *node) texts() []string {
	var out []string
	for _, k := range n.all("text") {
		out = append(out, k.Text)
	}
	return out
}

// checkImage checks what every chart must have: role img, named by its
// title and description, no style, no script, no fixed pixel width.
func checkImage(t *testing.T, svg *node, title, desc string) {
	t.Helper()
	if svg.Attr["role"] != "img" || svg.Attr["width"] != "100%" {
		t.Errorf("svg role %q width %q; want img, 100%%", svg.Attr["role"], svg.Attr["width"])
	}
	ids := strings.Fields(svg.Attr["aria-labelledby"])
	if len(ids) != 2 {
		t.Fatalf("aria-labelledby = %q", svg.Attr["aria-labelledby"])
	}
	byID := map[string]*node{}
	var walk func(n *node)
	walk = func(n *node) {
		if id := n.Attr["id"]; id != "" {
			byID[id] = n
		}
		if _, ok := n.Attr["style"]; ok || n.Name == "style" || n.Name == "script" {
			t.Errorf("the chart has a %s with style or script", n.Name)
		}
		for _, k := range n.Kids {
			walk(k)
		}
	}
	walk(svg)
	if n := byID[ids[0]]; n == nil || n.Name != "title" || n.Text != title {
		t.Errorf("the chart's title is %+v, want %q", n, title)
	}
	if n := byID[ids[1]]; n == nil || n.Name != "desc" || n.Text != desc {
		t.Errorf("the chart's description is %+v, want %q", n, desc)
	}
}

func TestLineChartDrawsTheNumbers(t *testing.T) {
	cur := []float64{0, 400, 1000, 250}
	prev := []float64{100, 200, 300, 800}
	c := svgchart.Line{ID: "views", Title: "Page views per day", Desc: "1,650 in all.",
		Labels: []string{"1 May", "2 May", "3 May", "4 May"},
		Series: []svgchart.Series{{Name: "This period", Values: cur}, {Name: "Previous period", Values: prev}}}
	svg := parse(t, string(c.SVG()))
	checkImage(t, svg, "Page views per day", "1,650 in all.")

	// The axis tops at 1,000 (Nice), so y = 1000 - v in the plot's units.
	plot := svg.all("svg")
	if len(plot) != 1 || plot[0].Attr["viewBox"] != "0 0 3 1000" || plot[0].Attr["preserveAspectRatio"] != "none" {
		t.Fatalf("plot area: %+v", plot)
	}
	lines := plot[0].all("polyline")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	for _, l := range lines {
		want := cur
		if l.Attr["data-series"] == "1" {
			want = prev
			if l.Attr["stroke-dasharray"] == "" {
				t.Error("the previous period is not dashed")
			}
		} else if l.Attr["stroke-dasharray"] != "" {
			t.Error("this period is dashed")
		}
		pts := strings.Fields(l.Attr["points"])
		if len(pts) != len(want) {
			t.Fatalf("series %s has %d points, want %d", l.Attr["data-series"], len(pts), len(want))
		}
		for i, p := range pts {
			x, y, _ := strings.Cut(p, ",")
			fx, _ := strconv.ParseFloat(x, 64)
			fy, _ := strconv.ParseFloat(y, 64)
			if fx != float64(i) || math.Abs(fy-(1000-want[i])) > 0.01 {
				t.Errorf("series %s point %d = %s, want %d,%v", l.Attr["data-series"], i, p, i, 1000-want[i])
			}
		}
		if l.Attr["vector-effect"] != "non-scaling-stroke" {
			t.Error("the line's stroke would stretch with the plot")
		}
	}
	texts := strings.Join(svg.texts(), "|")
	for _, want := range []string{"This period", "Previous period", "1,000", "500", "1 May", "2 May", "4 May"} {
		if !strings.Contains(texts, want) {
			t.Errorf("the chart's texts lack %q: %s", want, texts)
		}
	}
}

func TestLineChartEdges(t *testing.T) {
	for _, c := range []svgchart.Line{
		{ID: "empty", Title: "Nothing", Labels: nil},
		{ID: "zeros", Title: "Zeros", Labels: []string{"a", "b"}, Series: []svgchart.Series{{Name: "x", Values: []float64{0, 0}}}},
		{ID: "one", Title: "One day", Labels: []string{"a"}, Series: []svgchart.Series{{Name: "x", Values: []float64{5}}}},
	} {
		svg := parse(t, string(c.SVG()))
		for _, l := range svg.all("polyline") {
			for _, p := range strings.Fields(l.Attr["points"]) {
				if strings.Contains(p, "NaN") || strings.Contains(p, "Inf") {
					t.Errorf("%s: point %s", c.ID, p)
				}
			}
		}
	}
}

func TestBarsDrawTheNumbers(t *testing.T) {
	c := svgchart.Bars{ID: "pages", Title: "Top pages", Desc: "Views per page.", Bars: []svgchart.Bar{
		{Label: "/", Value: 800, Text: "800", Prev: 1000, HasPrev: true},
		{Label: "/pricing", Value: 200, Text: "200"},
		{Label: "/docs", Value: 0, Text: "0"},
	}}
	svg := parse(t, string(c.SVG()))
	checkImage(t, svg, "Top pages", "Views per page.")
	var bars []*node
	for _, r := range svg.all("rect") {
		if _, ok := r.Attr["data-value"]; ok {
			bars = append(bars, r)
		}
	}
	if len(bars) != 3 {
		t.Fatalf("%d bars, want 3", len(bars))
	}
	// One scale for all, up to the largest value including the previous
	// period's mark (1,000).
	for i, want := range []string{"80%", "20%", "0%"} {
		if bars[i].Attr["width"] != want {
			t.Errorf("bar %d width %s, want %s", i, bars[i].Attr["width"], want)
		}
	}
	if title := bars[1].all("title"); len(title) != 1 || title[0].Text != "/pricing: 200" {
		t.Errorf("bar title %+v", title)
	}
	marks := svg.all("line")
	if len(marks) != 1 || marks[0].Attr["x1"] != "100%" || marks[0].Attr["data-prev"] != "1000" {
		t.Errorf("previous-period marks: %+v", marks)
	}
	long := strings.Repeat("x", 100)
	svg = parse(t, string(svgchart.Bars{ID: "l", Bars: []svgchart.Bar{{Label: long, Value: 1, Text: "1"}}}.SVG()))
	if got := svg.texts()[0]; len([]rune(got)) != 34 || !strings.HasSuffix(got, "…") {
		t.Errorf("a long label is drawn as %q", got)
	}
}

// TestHostileLabelsAreEscaped puts markup and quotes in every text a chart
// draws: the output must stay one well-formed <svg> whose texts read back
// exactly as given, with no element or attribute the input made.
func TestHostileLabelsAreEscaped(t *testing.T) {
	evil := `"><script>alert(1)</script><svg onload='x'>&amp;`
	charts := []string{
		string(svgchart.Line{ID: `x" onload="y`, Title: evil, Desc: evil, Labels: []string{evil, evil, evil},
			Series: []svgchart.Series{{Name: evil, Values: []float64{1, 2, 3}}, {Name: evil, Values: []float64{3, 2, 1}}},
			Format: func(float64) string { return evil }}.SVG()),
		string(svgchart.Bars{ID: evil, Title: evil, Desc: evil, Bars: []svgchart.Bar{{Label: evil, Value: 1, Text: evil, Prev: 2, HasPrev: true}}}.SVG()),
	}
	for _, out := range charts {
		if strings.Contains(out, "<script") || strings.Contains(out, "<svg onload") || strings.Contains(out, `"y"`) {
			t.Errorf("markup got through:\n%s", out)
		}
		svg := parse(t, out)
		var walk func(n *node)
		walk = func(n *node) {
			switch n.Name {
			case "svg", "title", "desc", "text", "line", "rect", "polyline", "polygon", "g":
			default:
				t.Errorf("unexpected element <%s>", n.Name)
			}
			for k := range n.Attr {
				if strings.HasPrefix(k, "on") {
					t.Errorf("event attribute %s", k)
				}
			}
			// Every text drawn is the hostile text itself, read back (a
			// bar's label clipped).
			if (n.Name == "text" || n.Name == "desc" || n.Name == "title") && !strings.Contains(n.Text, evil) &&
				!strings.HasPrefix(evil, strings.TrimSuffix(n.Text, "…")) {
				t.Errorf("<%s> reads %q", n.Name, n.Text)
			}
			for _, k := range n.Kids {
				walk(k)
			}
		}
		walk(svg)
	}
}

func TestNiceAndThousands(t *testing.T) {
	for v, want := range map[float64]float64{0: 1, 1: 1, 3: 5, 10: 10, 11: 20, 21: 25, 26_999: 50_000, 0.3: 0.5} {
		if got := svgchart.Nice(v); math.Abs(got-want) > 1e-9 {
			t.Errorf("Nice(%v) = %v, want %v", v, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45000: "-45,000"} {
		if got := svgchart.Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
