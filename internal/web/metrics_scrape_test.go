package web_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/requests"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// scrape GETs /metrics from url over HTTP and parses the exposition as
// Prometheus does.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("the exposition does not parse: %v", err)
	}
	return fams
}

// value is the sample of family name whose labels include labels (pairs
// of name and value), and whether there is one.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// TestMetricsFollowTheData scrapes a real server's metrics while the data
// changes: the outbox's queue, its oldest message and its failures, the
// privacy requests by deadline, and the license validations by result;
// and when the database stops answering, the database facts disappear
// behind storekeep_database_facts_up 0 instead of reading as zeros.
func TestMetricsFollowTheData(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
		_, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		lic := webtest.IssueLicense(t, s, c.ID, "standard", false)
		if _, err := d.ExecContext(ctx, `DELETE FROM outbox`); err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s.Srv.MetricsHandler())
		defer ts.Close()
		want := func(name string, v float64, labels ...string) {
			t.Helper()
			got, ok := value(scrape(t, ts.URL), name, labels...)
			if !ok || got != v {
				t.Errorf("%s%v = %v (present %v), want %v", name, labels, got, ok, v)
			}
		}

		want("storekeep_database_facts_up", 1)
		want("storekeep_outbox_queued", 0, "kind", "transactional")
		want("storekeep_outbox_queued", 0, "kind", "bulk")
		want("storekeep_outbox_oldest_queued_age_seconds", 0)
		want("storekeep_privacy_requests_open", 0, "due", "overdue")
		want("storekeep_license_validations_total", 0, "result", "VALID")

		// Two messages queued, the first 90 seconds ago.
		webtest.QueueMail(t, s, "a@example.com", "one")
		s.Clock.Advance(60 * time.Second)
		webtest.QueueMail(t, s, "b@example.com", "two")
		s.Clock.Advance(30 * time.Second)
		want("storekeep_outbox_queued", 2, "kind", "transactional")
		want("storekeep_outbox_oldest_queued_age_seconds", 90)
		want("storekeep_outbox_failing", 0, "state", "retrying")

		// The relay refuses for now: both will be retried, still queued.
		webtest.RunWorker(t, s, webtest.SenderFunc(func(context.Context, mail.Outgoing) error { return errors.New("451 try later") }))
		want("storekeep_outbox_failing", 2, "state", "retrying")
		want("storekeep_outbox_queued", 2, "kind", "transactional")
		// Then for good: given up, no longer queued.
		s.Clock.Advance(5 * time.Minute)
		webtest.RunWorker(t, s, webtest.SenderFunc(func(context.Context, mail.Outgoing) error { return mail.Permanent(errors.New("550 no such user")) }))
		want("storekeep_outbox_failing", 0, "state", "retrying")
		want("storekeep_outbox_failing", 2, "state", "given_up")
		want("storekeep_outbox_queued", 0, "kind", "transactional")
		want("storekeep_outbox_oldest_queued_age_seconds", 0)

		// Requests received long ago (overdue), 26 days ago (due within
		// the week) and today.
		now := s.Clock.Now()
		for _, r := range []struct {
			email string
			at    time.Time
		}{{"old@example.com", now.AddDate(0, 0, -40)}, {"soon@example.com", now.AddDate(0, 0, -26)}, {"new@example.com", now}} {
			if _, err := requests.Create(ctx, d, nil, requests.NewRequest{Kind: requests.Access, Email: r.email, Channel: requests.Email, ReceivedAt: r.at}, requests.System, now); err != nil {
				t.Fatal(err)
			}
		}
		want("storekeep_privacy_requests_open", 1, "due", "overdue")
		want("storekeep_privacy_requests_open", 1, "due", "soon")
		want("storekeep_privacy_requests_open", 1, "due", "later")

		// Validations through the API, by result.
		validate := func(body string) {
			t.Helper()
			res := s.Do(t, http.MethodPost, "/api/v1/licenses/validate", http.Header{"Content-Type": {"application/json"}}, strings.NewReader(body))
			if res.StatusCode >= 500 {
				t.Fatalf("validate: %d", res.StatusCode)
			}
		}
		validate(`{"key":"` + lic.Key + `","nonce":"0123456789abcdef01"}`)
		validate(`{"key":"` + lic.Key + `","nonce":"0123456789abcdef02"}`)
		validate(`{"key":"SK1.garbage","nonce":"0123456789abcdef03"}`)
		validate(`{"key":"` + lic.Key + `"}`)
		fams := scrape(t, ts.URL)
		for result, n := range map[string]float64{"VALID": 2, "INVALID_KEY": 1, "BAD_REQUEST": 1, "EXPIRED": 0} {
			if got, ok := value(fams, "storekeep_license_validations_total", "result", result); !ok || got != n {
				t.Errorf("validations %s = %v (present %v), want %v", result, got, ok, n)
			}
		}
		var exposition bytes.Buffer
		for _, f := range fams {
			_, _ = expfmt.MetricFamilyToText(&exposition, f)
		}
		webtest.MustNotContain(t, exposition.String(), "example.com", lic.Key, lic.LicenseID)

		d.Close()
		fams = scrape(t, ts.URL)
		if v, ok := value(fams, "storekeep_database_facts_up"); !ok || v != 0 {
			t.Errorf("facts_up with the database closed = %v (present %v), want 0", v, ok)
		}
		if _, ok := value(fams, "storekeep_outbox_queued", "kind", "transactional"); ok {
			t.Error("the outbox is reported while the database does not answer")
		}
	})
}
