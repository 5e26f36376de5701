package detect

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
)

// EvaluateEvery is how often the periodic job looks at the windows.
const EvaluateEvery = 10 * time.Minute

// Evaluate looks at the windows that end at now for the patterns of
// licensing, downloads, repositories and checkouts, and raises a signal for
// each license, customer or order showing one, in a transaction per signal.
// A signal's Source names its pattern, subject and day, so running again
// (the next run, another instance) adds nothing to a case until the next
// day. It reads observations, orders, licenses and downloads and writes
// nothing but what Raise writes. It returns how many signals it raised.
func Evaluate(ctx context.Context, d *db.DB, raise Raise, th Thresholds, now time.Time) (int, error) {
	th = th.WithDefaults()
	now = now.UTC()
	var found []fraud.Signal
	for _, f := range []func(context.Context, *db.DB, Thresholds, time.Time) ([]fraud.Signal, error){
		keySharing, replacements, repoNetworks, downloadVolume, checkoutsPerNetwork, checkoutsPerEmail,
	} {
		s, err := f(ctx, d, th, now)
		if err != nil {
			return 0, err
		}
		found = append(found, s...)
	}
	for _, s := range found {
		s.At = now
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return raise(ctx, tx, d.Dialect, s) }); err != nil {
			return 0, fmt.Errorf("raise %s signal: %w", s.Kind, err)
		}
	}
	return len(found), nil
}

func hours(w time.Duration) string {
	if w%(24*time.Hour) == 0 {
		n := int(w / (24 * time.Hour))
		if n == 1 {
			return "24 hours"
		}
		return strconv.Itoa(n) + " days"
	}
	if w%time.Hour == 0 {
		if w == time.Hour {
			return "1 hour"
		}
		return strconv.Itoa(int(w/time.Hour)) + " hours"
	}
	return w.String()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// keySharing: one license's activations and check-ins from more networks,
// or more machines than it allows plus the slack, within the window.
func keySharing(ctx context.Context, d *db.DB, th Thresholds, now time.Time) ([]fraud.Signal, error) {
	rows, err := d.QueryContext(ctx, `SELECT o.license_id, MAX(COALESCE(l.customer_id, 0)), MAX(l.max_machines), MAX(l.lic),
			COUNT(DISTINCT o.network), COUNT(DISTINCT o.machine)
		FROM fraud_observations o JOIN licenses l ON l.id = o.license_id
		WHERE o.kind IN ('activation', 'new_seat', 'check_in') AND o.observed_at > $1
		GROUP BY o.license_id
		HAVING COUNT(DISTINCT o.network) > $2 OR (MAX(l.max_machines) > 0 AND COUNT(DISTINCT o.machine) > MAX(l.max_machines) + $3)`,
		now.Add(-th.KeySharingWindow), th.KeySharingNetworks, th.ExtraMachines)
	if err != nil {
		return nil, fmt.Errorf("key sharing: %w", err)
	}
	defer rows.Close()
	var out []fraud.Signal
	for rows.Next() {
		var lid, cid, max, nets, machines int64
		var lic string
		if err := rows.Scan(&lid, &cid, &max, &lic, &nets, &machines); err != nil {
			return nil, err
		}
		limit := "unlimited"
		if max > 0 {
			limit = itoa(max)
		}
		out = append(out, fraud.Signal{Kind: fraud.KeySharing, Subject: fraud.Subject{CustomerID: cid, LicenseID: lid},
			Summary: fmt.Sprintf("License %s was activated or checked in from %d networks and %d machines in %s (machine limit: %s).", lic, nets, machines, hours(th.KeySharingWindow), limit),
			Facts: []fraud.Fact{{Name: "networks in " + hours(th.KeySharingWindow), Value: itoa(nets)},
				{Name: "machines in " + hours(th.KeySharingWindow), Value: itoa(machines)}, {Name: "machine limit", Value: limit},
				{Name: "threshold", Value: fmt.Sprintf("more than %d networks, or more than the limit plus %d machines", th.KeySharingNetworks, th.ExtraMachines)}},
			Source: fmt.Sprintf("%s:license:%d:%s", fraud.KeySharing, lid, day(now))})
	}
	return out, rows.Err()
}

// replacements: more machines took a new seat of a limited license in the
// window than its limit plus the replacements expected.
func replacements(ctx context.Context, d *db.DB, th Thresholds, now time.Time) ([]fraud.Signal, error) {
	rows, err := d.QueryContext(ctx, `SELECT o.license_id, MAX(COALESCE(l.customer_id, 0)), MAX(l.max_machines), MAX(l.lic), COUNT(DISTINCT o.machine)
		FROM fraud_observations o JOIN licenses l ON l.id = o.license_id
		WHERE o.kind = 'new_seat' AND o.observed_at > $1 AND l.max_machines > 0
		GROUP BY o.license_id
		HAVING COUNT(DISTINCT o.machine) > MAX(l.max_machines) + $2`,
		now.Add(-th.ReplacementWindow), th.ReplacementsAllowed)
	if err != nil {
		return nil, fmt.Errorf("replacements: %w", err)
	}
	defer rows.Close()
	var out []fraud.Signal
	for rows.Next() {
		var lid, cid, max, seats int64
		var lic string
		if err := rows.Scan(&lid, &cid, &max, &lic, &seats); err != nil {
			return nil, err
		}
		out = append(out, fraud.Signal{Kind: fraud.ManyReplacements, Subject: fraud.Subject{CustomerID: cid, LicenseID: lid},
			Summary: fmt.Sprintf("License %s gave a new seat to %d machines in %s; it allows %d at a time.", lic, seats, hours(th.ReplacementWindow), max),
			Facts: []fraud.Fact{{Name: "new machines in " + hours(th.ReplacementWindow), Value: itoa(seats)}, {Name: "machine limit", Value: itoa(max)},
				{Name: "threshold", Value: fmt.Sprintf("more than the limit plus %d", th.ReplacementsAllowed)}},
			Source: fmt.Sprintf("%s:license:%d:%s", fraud.ManyReplacements, lid, day(now))})
	}
	return out, rows.Err()
}

// repoNetworks: one license's repository credential used from more
// networks than the threshold in the window.
func repoNetworks(ctx context.Context, d *db.DB, th Thresholds, now time.Time) ([]fraud.Signal, error) {
	rows, err := d.QueryContext(ctx, `SELECT o.license_id, MAX(COALESCE(l.customer_id, 0)), MAX(l.lic), COUNT(DISTINCT o.network)
		FROM fraud_observations o JOIN licenses l ON l.id = o.license_id
		WHERE o.kind = 'repository' AND o.observed_at > $1
		GROUP BY o.license_id
		HAVING COUNT(DISTINCT o.network) > $2`,
		now.Add(-th.RepoWindow), th.RepoNetworks)
	if err != nil {
		return nil, fmt.Errorf("repository networks: %w", err)
	}
	defer rows.Close()
	var out []fraud.Signal
	for rows.Next() {
		var lid, cid, nets int64
		var lic string
		if err := rows.Scan(&lid, &cid, &lic, &nets); err != nil {
			return nil, err
		}
		out = append(out, fraud.Signal{Kind: fraud.RepoCredentialWide, Subject: fraud.Subject{CustomerID: cid, LicenseID: lid},
			Summary: fmt.Sprintf("The package repository credential of license %s was used from %d networks in %s.", lic, nets, hours(th.RepoWindow)),
			Facts: []fraud.Fact{{Name: "networks in " + hours(th.RepoWindow), Value: itoa(nets)},
				{Name: "threshold", Value: fmt.Sprintf("more than %d", th.RepoNetworks)}},
			Source: fmt.Sprintf("%s:license:%d:%s", fraud.RepoCredentialWide, lid, day(now))})
	}
	return out, rows.Err()
}

// downloadVolume: whole-file downloads with one license in the window
// beyond the base plus so many per machine the license allows. Resumed
// downloads (a range from the middle) do not count.
func downloadVolume(ctx context.Context, d *db.DB, th Thresholds, now time.Time) ([]fraud.Signal, error) {
	rows, err := d.QueryContext(ctx, `SELECT dl.license_id, MAX(COALESCE(l.customer_id, 0)), MAX(l.max_machines), MAX(l.lic), COUNT(*)
		FROM downloads dl JOIN licenses l ON l.id = dl.license_id
		WHERE dl.at > $1 AND dl.first_byte = 0
		GROUP BY dl.license_id
		HAVING COUNT(*) > $2 + $3 * MAX(CASE WHEN l.max_machines > 0 THEN l.max_machines ELSE 1 END)`,
		now.Add(-th.DownloadWindow), th.DownloadsBase, th.DownloadsPerMachine)
	if err != nil {
		return nil, fmt.Errorf("download volume: %w", err)
	}
	defer rows.Close()
	var out []fraud.Signal
	for rows.Next() {
		var lid, cid, max, n int64
		var lic string
		if err := rows.Scan(&lid, &cid, &max, &lic, &n); err != nil {
			return nil, err
		}
		machines := max
		if machines <= 0 {
			machines = 1
		}
		explained := int64(th.DownloadsBase) + int64(th.DownloadsPerMachine)*machines
		out = append(out, fraud.Signal{Kind: fraud.DownloadVolume, Subject: fraud.Subject{CustomerID: cid, LicenseID: lid},
			Summary: fmt.Sprintf("License %s downloaded %d files in %s; its machine limit explains about %d.", lic, n, hours(th.DownloadWindow), explained),
			Facts:   []fraud.Fact{{Name: "downloads in " + hours(th.DownloadWindow), Value: itoa(n)}, {Name: "explained by the license", Value: itoa(explained)}},
			Source:  fmt.Sprintf("%s:license:%d:%s", fraud.DownloadVolume, lid, day(now))})
	}
	return out, rows.Err()
}

// checkoutsPerNetwork: more checkouts from one network in the window than
// the threshold; a signal for each account (or order, without one) among
// them.
func checkoutsPerNetwork(ctx context.Context, d *db.DB, th Thresholds, now time.Time) ([]fraud.Signal, error) {
	since := now.Add(-th.CheckoutWindow)
	rows, err := d.QueryContext(ctx, `SELECT network, COUNT(*), COUNT(DISTINCT customer_id) FROM fraud_observations
		WHERE kind = 'checkout' AND observed_at > $1 AND network <> ''
		GROUP BY network HAVING COUNT(*) > $2`, since, th.CheckoutsPerNetwork)
	if err != nil {
		return nil, fmt.Errorf("checkouts per network: %w", err)
	}
	type burst struct {
		network        string
		n, customers   int64
		customerOrders [][2]int64
	}
	var bursts []burst
	for rows.Next() {
		var b burst
		if err := rows.Scan(&b.network, &b.n, &b.customers); err != nil {
			_ = rows.Close()
			return nil, err
		}
		bursts = append(bursts, b)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []fraud.Signal
	for _, b := range bursts {
		rs, err := d.QueryContext(ctx, `SELECT COALESCE(customer_id, 0), MAX(COALESCE(order_id, 0)) FROM fraud_observations
			WHERE kind = 'checkout' AND observed_at > $1 AND network = $2
			GROUP BY COALESCE(customer_id, 0)`, since, b.network)
		if err != nil {
			return nil, fmt.Errorf("checkouts per network: %w", err)
		}
		for rs.Next() {
			var cid, oid int64
			if err := rs.Scan(&cid, &oid); err != nil {
				_ = rs.Close()
				return nil, err
			}
			subject, src := fraud.Subject{CustomerID: cid, OrderID: oid}, fmt.Sprintf("customer:%d", cid)
			if cid == 0 {
				src = fmt.Sprintf("order:%d", oid)
			}
			out = append(out, fraud.Signal{Kind: fraud.CheckoutBurstNetwork, Subject: subject,
				Summary: fmt.Sprintf("%d checkouts came from one network in %s, by %d accounts; this account placed one of them.", b.n, hours(th.CheckoutWindow), b.customers),
				Facts: []fraud.Fact{{Name: "checkouts from the network in " + hours(th.CheckoutWindow), Value: itoa(b.n)},
					{Name: "accounts among them", Value: itoa(b.customers)}, {Name: "threshold", Value: fmt.Sprintf("more than %d", th.CheckoutsPerNetwork)}},
				Source: fmt.Sprintf("%s:%s:%s", fraud.CheckoutBurstNetwork, src, day(now))})
		}
		_ = rs.Close()
		if err := rs.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkoutsPerEmail: more orders placed for one email address in the
// window than the threshold (read from the orders themselves: no
// observation needed).
func checkoutsPerEmail(ctx context.Context, d *db.DB, th Thresholds, now time.Time) ([]fraud.Signal, error) {
	rows, err := d.QueryContext(ctx, `SELECT MAX(COALESCE(customer_id, 0)), MAX(id), COUNT(*) FROM orders
		WHERE created_at > $1 AND billing_email <> ''
		GROUP BY billing_email HAVING COUNT(*) > $2`, now.Add(-th.CheckoutWindow), th.CheckoutsPerEmail)
	if err != nil {
		return nil, fmt.Errorf("checkouts per address: %w", err)
	}
	defer rows.Close()
	var out []fraud.Signal
	for rows.Next() {
		var cid, oid, n int64
		if err := rows.Scan(&cid, &oid, &n); err != nil {
			return nil, err
		}
		src := fmt.Sprintf("customer:%d", cid)
		if cid == 0 {
			src = fmt.Sprintf("order:%d", oid)
		}
		out = append(out, fraud.Signal{Kind: fraud.CheckoutBurstEmail, Subject: fraud.Subject{CustomerID: cid, OrderID: oid},
			Summary: fmt.Sprintf("%d orders were placed for one email address in %s.", n, hours(th.CheckoutWindow)),
			Facts: []fraud.Fact{{Name: "orders for the address in " + hours(th.CheckoutWindow), Value: itoa(n)},
				{Name: "threshold", Value: fmt.Sprintf("more than %d", th.CheckoutsPerEmail)}},
			Source: fmt.Sprintf("%s:%s:%s", fraud.CheckoutBurstEmail, src, day(now))})
	}
	return out, rows.Err()
}
