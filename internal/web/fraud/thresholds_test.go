package fraud_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// thresholdForm is every threshold's current figure, as the page's form
// would post it, with the changes applied.
func thresholdForm(th detect.Thresholds, change map[string]string) url.Values {
	v := url.Values{}
	for _, f := range th.Fields() {
		v.Set(f.Key, strconv.FormatInt(f.Value, 10))
	}
	for k, x := range change {
		v.Set(k, x)
	}
	return v
}

func TestFraudThresholdsInTheConsole(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))

		// Finance reviews cases and reads the thresholds, but does not
		// change them.
		fin := webtest.NewBrowser(s)
		fin.SignIn(t, webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, true))
		res, body := fin.Get(t, "/staff/fraud/thresholds")
		webtest.WantStatus(t, res, body, 200)
		if !strings.Contains(body, `id="checkouts_per_network" name="checkouts_per_network" value="5"`) || strings.Contains(body, "Save thresholds") {
			t.Fatalf("finance's view of the thresholds:\n%s", body)
		}
		res, body = fin.Post(t, "/staff/fraud/thresholds", thresholdForm(detect.Defaults, map[string]string{"checkouts_per_network": "50"}))
		webtest.WantStatus(t, res, body, 403)

		owner := webtest.NewBrowser(s)
		owner.SignIn(t, webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true))

		// Bad input: each refused with the field named, nothing saved.
		for name, c := range map[string]struct{ field, value string }{
			"zero":          {"checkouts_per_network", "0"},
			"negative":      {"risk_score", "-3"},
			"above the cap": {"risk_score", "101"},
			"not a number":  {"repo_networks", "five"},
			"a fraction":    {"downloads_base", "2.5"},
			"missing":       {"checkout_window", ""},
			"huge":          {"replacement_window", "99999999999999999999"},
			"markup":        {"extra_machines", "<script>alert(1)</script>"},
		} {
			res, body := owner.Post(t, "/staff/fraud/thresholds", thresholdForm(detect.Defaults, map[string]string{c.field: c.value}))
			webtest.WantRefused(t, res, body, c.field, `id="`+c.field+`-error"`, "Nothing was saved")
			if strings.Contains(body, "<script>alert") {
				t.Errorf("%s: markup echoed:\n%.800s", name, body)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM settings WHERE key = 'fraud.thresholds'`); n != 0 {
			t.Fatalf("a refused form saved thresholds")
		}

		// A good save: stored, audited with what changed, in force.
		res, _ = owner.Post(t, "/staff/fraud/thresholds", thresholdForm(detect.Defaults, map[string]string{"checkouts_per_network": "12", "checkout_window": "30"}))
		webtest.WantRedirect(t, res, "/staff/fraud/thresholds?done=saved")
		th, err := detect.LoadThresholds(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if th.CheckoutsPerNetwork != 12 || th.CheckoutWindow.Minutes() != 30 || th.RepoNetworks != detect.Defaults.RepoNetworks {
			t.Fatalf("thresholds after the save: %+v", th)
		}
		if got := status(t, d, `SELECT detail FROM audit_log WHERE action = 'fraud.thresholds_changed'`); got != "Checkout window 60 → 30 minutes; Checkouts per network 5 → 12" {
			t.Errorf("audit detail = %q", got)
		}
		_, body = owner.Get(t, "/staff/fraud/thresholds?done=saved")
		if !strings.Contains(body, `name="checkouts_per_network" value="12"`) || !strings.Contains(body, "The thresholds are saved") {
			t.Errorf("the page after the save:\n%s", body)
		}
		// The same figures again change nothing and audit nothing.
		res, _ = owner.Post(t, "/staff/fraud/thresholds", thresholdForm(th, nil))
		webtest.WantRedirect(t, res, "/staff/fraud/thresholds?done=unchanged")
		if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'fraud.thresholds_changed'`); n != 1 {
			t.Errorf("%d audit entries, want 1", n)
		}
	})
}
