package demo

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/analytics"
	"github.com/storekeep/storekeep/internal/db"
)

// SeedAnalytics gives the demo's dashboard eight weeks of history: daily
// aggregates for the days before today, as the roll-up would have written
// them, with a weekly rhythm and a campaign. Today's figures come from
// the demo's own visitors (the counter and the roll-up run in the demo as
// in production). Made-up counts only: the demo seeds no raw page views,
// which would be a kind of data the real site keeps two days at most. It
// does nothing when the aggregates hold rows already.
func SeedAnalytics(ctx context.Context, d *db.DB, now time.Time) (bool, error) {
	var n int
	if err := d.QueryRowContext(ctx, `SELECT count(*) FROM analytics_daily`).Scan(&n); err != nil {
		return false, fmt.Errorf("check demo analytics: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	today := now.UTC().Truncate(24 * time.Hour)
	noise := int64(0x2545f4914f6cdd1d)
	jitter := func(v int64) int64 { // ±20 %, deterministic (a linear congruential generator)
		noise = noise*6364136223846793005 + 1442695040888963407
		r := (noise >> 33) & 0x7fffffff
		return v*8/10 + r%(v*4/10+1)
	}
	type share struct {
		dim, value string
		per1000    int64 // views per 1000 of the day's
	}
	shares := []share{
		{"page", "/", 300}, {"page", "/products/quillguard", 230}, {"page", "/pricing", 150},
		{"page", "/products/quillguard-reports", 90}, {"page", "/checkout", 60}, {"page", "/support", 50},
		{"page", "/products/quillguard/download", 45}, {"page", "/privacy", 40}, {"page", "/cookies", 20}, {"page", "/statistics", 15},
		{"referrer", "", 520}, {"referrer", "www.google.com", 210}, {"referrer", "duckduckgo.com", 70},
		{"referrer", "news.ycombinator.com", 60}, {"referrer", "lists.postfix.org", 80}, {"referrer", "github.com", 60},
		{"browser", "Firefox", 380}, {"browser", "Chrome", 420}, {"browser", "Safari", 120}, {"browser", "Edge", 80},
		{"device", "desktop", 820}, {"device", "mobile", 150}, {"device", "tablet", 30},
		{"screen", "desktop", 560}, {"screen", "wide", 260}, {"screen", "phone", 150}, {"screen", "tablet", 30},
		{"country", "", 1000},
	}
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		for back := 56; back >= 1; back-- {
			day := today.AddDate(0, 0, -back)
			views := int64(900)
			if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
				views = 380
			}
			views = jitter(views + int64(56-back)*6) // slowly growing
			visitors := views * 10 / 26
			rows := []share{{"total", "", 1000}}
			rows = append(rows, shares...)
			campaign := back <= 14 && back >= 8 // a newsletter two weeks ago
			if campaign {
				rows = append(rows, share{"utm_source", "newsletter", 90}, share{"utm_medium", "email", 90}, share{"utm_campaign", "quillguard-4", 90})
			}
			for _, r := range rows {
				v := max(views*r.per1000/1000, 1)
				if r.dim != "total" {
					v = jitter(v)
				}
				vis := max(v*10/26, 1)
				if r.dim == "total" {
					vis = visitors
				}
				entries, exits := vis/2, vis/2
				if r.dim == "total" || r.dim == "referrer" || r.dim[:3] == "utm" {
					entries, exits = vis, vis
				}
				bounces := entries * 38 / 100
				engaged := v * 3 / 4
				if _, err := tx.ExecContext(ctx, `INSERT INTO analytics_daily (dim, day, value, views, visitors, entries, exits, bounces, engaged_ms, engaged_views)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, r.dim, analytics.Day(day), r.value, v, vis, entries, exits, bounces, engaged*jitter(41000), engaged); err != nil {
					return err
				}
			}
			for _, f := range []struct {
				product         string
				per1000, orders int64
			}{{"quillguard", 230, 3}, {"quillguard-reports", 90, 1}, {"", 320, 4}} {
				pv := max(views*f.per1000/1000*10/26, 1)
				co := pv * 18 / 100
				paid := min(jitter(f.orders*10)/10, co)
				act := paid * 8 / 10
				if _, err := tx.ExecContext(ctx, `INSERT INTO analytics_funnel (day, product, product_visitors, checkout_visitors, orders_paid, activated)
					VALUES ($1, $2, $3, $4, $5, $6)`, analytics.Day(day), f.product, pv, co, paid, act); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("seed demo analytics: %w", err)
	}
	return true, nil
}
