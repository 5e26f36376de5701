package reports

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// DayCache keeps the daily revenue of finished days, so the dashboard
// reads only today's orders on each request. A finished day never changes:
// a sale counts on the day its order was paid and a refund on the day its
// credit note was issued, and both are written at the moment they happen,
// so nothing is ever added to a day once it is over (an import of old
// orders would be: restart the instances after one). Each instance keeps
// its own; they agree because the days they hold cannot differ. The cache
// holds one range of days, replaced when the range asked for moves (once
// a day), so its size is bounded by the dashboard's twelve months.
type DayCache struct {
	mu         sync.Mutex
	from, upTo time.Time // the finished days held: [from, upTo)
	days       Series
}

// Revenue is Revenue(ctx, d, db.Day, from, to) with the days before now's
// day taken from the cache (read once per day) and the rest read now.
func (c *DayCache) Revenue(ctx context.Context, d *db.DB, from, to, now time.Time) (Series, error) {
	today := db.PeriodStart(db.Day, now)
	from = db.PeriodStart(db.Day, from)
	if !from.Before(today) || !to.After(today) {
		return Revenue(ctx, d, db.Day, from, to) // all finished or all to come: nothing to split
	}
	past, err := c.finished(ctx, d, from, today)
	if err != nil {
		return Series{}, err
	}
	live, err := Revenue(ctx, d, db.Day, today, to)
	if err != nil {
		return Series{}, err
	}
	return join(past, live), nil
}

// finished returns the days [from, upTo), from the cache when it holds
// exactly them.
func (c *DayCache) finished(ctx context.Context, d *db.DB, from, upTo time.Time) (Series, error) {
	c.mu.Lock()
	if c.from.Equal(from) && c.upTo.Equal(upTo) {
		s := c.days
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	s, err := Revenue(ctx, d, db.Day, from, upTo)
	if err != nil {
		return Series{}, err
	}
	c.mu.Lock()
	c.from, c.upTo, c.days = from, upTo, s
	c.mu.Unlock()
	return s, nil
}

// join puts two consecutive daily series together, with every currency
// of either present in every point.
func join(a, b Series) Series {
	out := Series{Period: db.Day, From: a.From, To: b.To}
	out.Currencies = slices.Sorted(maps.Keys(setOf(a.Currencies, b.Currencies)))
	for _, s := range []Series{a, b} {
		for _, p := range s.Points {
			pt := Point{Start: p.Start, ByCurrency: make(map[string]Amount, len(out.Currencies))}
			for _, cur := range out.Currencies {
				am := p.ByCurrency[cur]
				am.Currency = cur
				pt.ByCurrency[cur] = am
			}
			out.Points = append(out.Points, pt)
		}
	}
	return out
}

func setOf(lists ...[]string) map[string]bool {
	m := map[string]bool{}
	for _, l := range lists {
		for _, s := range l {
			m[s] = true
		}
	}
	return m
}
