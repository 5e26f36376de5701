package monitor_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/storekeep/storekeep/internal/monitor"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestFactsGiveUpOnASlowDatabase: while another session holds the outbox
// locked, a scrape waits FactsTimeout at most and reports
// storekeep_database_facts_up 0 without the facts, rather than hanging
// (Prometheus would time out and lose the instance's other metrics too)
// or claiming an empty outbox. Once the lock goes, the facts are back.
func TestFactsGiveUpOnASlowDatabase(t *testing.T) {
	d := testutil.Postgres(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(monitor.NewFacts(d, time.Now))
	gather := func() map[string]*dto.MetricFamily {
		t.Helper()
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]*dto.MetricFamily{}
		for _, f := range fams {
			out[f.GetName()] = f
		}
		return out
	}
	if f := gather(); f["storekeep_database_facts_up"].Metric[0].Gauge.GetValue() != 1 || f["storekeep_outbox_queued"] == nil {
		t.Fatal("the facts are missing with the database answering")
	}

	ctx := context.Background()
	tx, err := d.Writer().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f := gather()
	took := time.Since(start)
	if took < monitor.FactsTimeout || took > monitor.FactsTimeout+3*time.Second {
		t.Errorf("the scrape took %v, want about FactsTimeout (%v)", took, monitor.FactsTimeout)
	}
	if v := f["storekeep_database_facts_up"].Metric[0].Gauge.GetValue(); v != 0 {
		t.Errorf("facts_up = %v while the outbox is locked, want 0", v)
	}
	if f["storekeep_outbox_queued"] != nil {
		t.Error("the outbox is reported while it could not be read")
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if f := gather(); f["storekeep_database_facts_up"].Metric[0].Gauge.GetValue() != 1 {
		t.Error("the facts did not come back after the lock")
	}
}
