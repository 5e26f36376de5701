package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// dashboardFile is the Grafana dashboard in the repository.
const dashboardFile = "../../deploy/grafana/storekeep.json"

// promQLWords are the words of PromQL that are not metric names:
// functions, aggregations and their modifiers.
var promQLWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`sum min max avg count stddev stdvar topk bottomk quantile count_values group
		by without on ignoring group_left group_right bool offset and or unless
		rate irate increase delta idelta deriv histogram_quantile time vector scalar abs ceil floor round clamp_min clamp_max
		label_replace label_join label_values absent absent_over_time changes resets sort sort_desc timestamp
		avg_over_time max_over_time min_over_time sum_over_time count_over_time last_over_time predict_linear e inf nan`) {
		promQLWords[w] = true
	}
}

var (
	promStrings   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers  = regexp.MustCompile(`\{[^}]*\}`)
	promRanges    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping  = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promLabelArgs = regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,[^)]*\)`)
	promIdent     = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
)

// metricNames returns the metric names a PromQL expression (or a Grafana
// label_values() query) selects: what is left of its identifiers once
// strings, label matchers, ranges, grouping clauses, function names and
// Grafana's $variables are taken out.
func metricNames(expr string) []string {
	expr = promLabelArgs.ReplaceAllString(expr, "$1")
	expr = promStrings.ReplaceAllString(expr, " ")
	expr = promMatchers.ReplaceAllString(expr, " ")
	expr = promRanges.ReplaceAllString(expr, " ")
	expr = promGrouping.ReplaceAllString(expr, " ")
	expr = regexp.MustCompile(`\$\w+`).ReplaceAllString(expr, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(expr, -1) {
		w := expr[loc[0]:loc[1]]
		rest := strings.TrimLeft(expr[loc[1]:], " ")
		if promQLWords[w] || strings.HasPrefix(rest, "(") {
			continue
		}
		// Numbers such as 1e6 start with a digit and are not matched; a
		// word right after a digit is part of one.
		if loc[0] > 0 && expr[loc[0]-1] >= '0' && expr[loc[0]-1] <= '9' {
			continue
		}
		out = append(out, w)
	}
	return out
}

func TestMetricNamesOfPromQL(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (code) (rate(storekeep_http_requests_total{instance=~"$instance",code=~"5.."}[$__rate_interval]))`: {"storekeep_http_requests_total"},
		`histogram_quantile(0.99, sum by (le, route) (rate(a_bucket[5m])))`:                                        {"a_bucket"},
		`time() - max by (job) (b_seconds > 0)`:                                                                    {"b_seconds"},
		`sum(x) / sum(y) / 1e6`:                                                                                    {"x", "y"},
		`label_values(storekeep_build_info, instance)`:                                                             {"storekeep_build_info"},
		`up`: {"up"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %v, want %v", expr, got, want)
		}
	}
}

// TestDashboardUsesExportedMetrics: every query of the Grafana dashboard
// (panels and template variables) names only metrics that a running
// `storekeep serve` exports, scraped from its metrics listener; and each
// names at least one, so the check cannot pass by reading nothing. Each
// storekeep_ metric exported has a panel and a row in docs/metrics.md.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query struct {
					Query string `json:"query"`
				} `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	exported := exportedMetrics(t)
	queries := map[string][]string{} // where -> expressions
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			queries["panel "+p.Title] = append(queries["panel "+p.Title], tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		queries["variable "+v.Name] = append(queries["variable "+v.Name], v.Query.Query)
	}
	if len(queries) < 10 {
		t.Fatalf("only %d panels and variables with queries", len(queries))
	}
	used := map[string]bool{}
	for where, exprs := range queries {
		for _, e := range exprs {
			names := metricNames(e)
			if len(names) == 0 {
				t.Errorf("%s: no metric name found in %q", where, e)
			}
			for _, n := range names {
				used[n] = true
				if !exported[n] {
					t.Errorf("%s: %q names %s, which the server does not export", where, e, n)
				}
			}
		}
	}
	// docs/metrics.md describes each of Storekeep's own families.
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	for n := range exported {
		if strings.HasPrefix(n, "storekeep_") && !strings.HasSuffix(n, "_bucket") && !strings.HasSuffix(n, "_sum") && !strings.HasSuffix(n, "_count") &&
			!strings.Contains(string(doc), "| `"+n+"` |") {
			t.Errorf("docs/metrics.md has no row for %s", n)
		}
	}
	// The dashboard shows each of Storekeep's own families.
	for n := range exported {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")
		if strings.HasPrefix(n, "storekeep_") && !used[n] && !used[base+"_bucket"] && !used[base] {
			t.Errorf("the dashboard does not show %s", n)
		}
	}
}

// exportedMetrics runs serve with a metrics listener and the license API,
// asks the site for one page, scrapes the metrics and returns the names
// of every series (with _bucket, _sum and _count for histograms).
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	dir := t.TempDir()
	keys := filepath.Join(dir, "license-keys")
	if err := demoLicenseKeys(keys); err != nil {
		t.Fatal(err)
	}
	port, metricsPort := freeTCPPort(t), freeTCPPort(t)
	ctx, cancel := context.WithCancel(context.Background())
	root := rootCommand()
	root.SetOut(io.Discard)
	root.SetArgs([]string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metricsPort), "--license-keys", keys,
		"--db", filepath.Join(dir, "sk.db"), "--data-dir", dir, "--log-level", "warn"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	site := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitServing(t, done, 30*time.Second, "serve is not ready", answers200(site+"/readyz"))
	fams := scrape(t, fmt.Sprintf("http://127.0.0.1:%d", metricsPort))
	names := map[string]bool{}
	for n, f := range fams {
		names[n] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			names[n+"_bucket"], names[n+"_sum"], names[n+"_count"] = true, true, true
		}
	}
	for _, want := range []string{"storekeep_http_requests_total", "storekeep_outbox_queued", "storekeep_periodic_job_failures_total", "storekeep_license_validations_total"} {
		if !names[want] {
			t.Fatalf("serve does not export %s; exported: %v", want, names)
		}
	}
	return names
}
