package dbcopy

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/sync/errgroup"
	"golang.org/x/term"
)

// verify counts and checksums every application table on both sides, at
// once: the source in its read transaction, the target on its connection.
func (c *copier) verify(ctx context.Context) ([]TableResult, error) {
	names := make([]string, 0, len(c.order))
	for _, t := range c.order {
		names = append(names, t.name)
	}
	slices.Sort(names)
	out := make([]TableResult, 0, len(names))
	if c.opt.Progress != nil {
		fmt.Fprintf(c.opt.Progress, "Verifying %d tables: counting and checksumming both sides.\n", len(names))
	}
	for _, name := range names {
		t := c.all[name]
		start := time.Now()
		var src, dst sum
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() (err error) {
			src, err = sourceSum(gctx, c.src.tx, t)
			return err
		})
		g.Go(func() (err error) {
			dst, err = c.targetSum(gctx, t)
			return err
		})
		if err := g.Wait(); err != nil {
			return nil, err
		}
		if c.opt.Progress != nil && src.rows > 1000 {
			fmt.Fprintf(c.opt.Progress, "  %-28s %10d rows in %6.1fs\n", name, src.rows, time.Since(start).Seconds())
		}
		out = append(out, TableResult{Table: name, SourceRows: src.rows, TargetRows: dst.rows,
			SourceSum: src.String(), TargetSum: dst.String()})
	}
	return out, nil
}

func selectList(t *table) string {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = quote(c.name)
	}
	return strings.Join(cols, ", ")
}

// sourceSum checksums a table of a SQLite database: its values converted
// as the copy converts them, then normalised as the target's are.
func sourceSum(ctx context.Context, q querier, t *table) (sum, error) {
	var s sum
	rows, err := q.QueryContext(ctx, `SELECT `+selectList(t)+` FROM `+quote(t.name))
	if err != nil {
		return s, fmt.Errorf("checksum the source's table %s: %w", t.name, err)
	}
	defer rows.Close()
	raw := make([]any, len(t.columns))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	kinds := kindsOf(t)
	vals := make([]any, len(raw))
	var buf []byte
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return s, fmt.Errorf("checksum the source's table %s: %w", t.name, err)
		}
		for i, v := range raw {
			if vals[i], err = convert(v, kinds[i]); err != nil {
				return s, fmt.Errorf("checksum the source's table %s, column %s: %w", t.name, t.columns[i].name, err)
			}
		}
		var h [32]byte
		if buf, h, err = rowHash(buf, vals, kinds); err != nil {
			return s, fmt.Errorf("checksum the source's table %s: %w", t.name, err)
		}
		s.add(h)
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("checksum the source's table %s: %w", t.name, err)
	}
	return s, nil
}

// targetSum checksums a table of the target, normalised as sourceSum's.
func (c *copier) targetSum(ctx context.Context, t *table) (sum, error) {
	var s sum
	rows, err := c.conn.Query(ctx, `SELECT `+selectList(t)+` FROM `+quote(t.name))
	if err != nil {
		return s, fmt.Errorf("checksum the target's table %s: %w", t.name, err)
	}
	defer rows.Close()
	kinds := kindsOf(t)
	var buf []byte
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return s, fmt.Errorf("checksum the target's table %s: %w", t.name, err)
		}
		var h [32]byte
		if buf, h, err = rowHash(buf, vals, kinds); err != nil {
			return s, fmt.Errorf("checksum the target's table %s: %w", t.name, err)
		}
		s.add(h)
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("checksum the target's table %s: %w", t.name, err)
	}
	return s, nil
}

func kindsOf(t *table) []kind {
	k := make([]kind, len(t.columns))
	for i, c := range t.columns {
		k[i] = c.kind
	}
	return k
}

// progress shows the copy's progress: on a terminal one bar over all
// rows, described by the table being copied and how far it is; elsewhere
// (a log file, a pipe) a line every ten seconds; and a line per large
// table done.
type progress struct {
	bar         *progressbar.ProgressBar
	w           io.Writer
	table       string
	done, total int64
	lastLine    time.Time
	lines       bool
}

func newProgress(w io.Writer, total, already int64) *progress {
	if w == nil {
		return &progress{}
	}
	p := &progress{w: w, done: already, total: total}
	if f, ok := w.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		p.lines = true
		return p
	}
	p.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetRenderBlankState(true),
	)
	if already > 0 {
		_ = p.bar.Set64(already)
	}
	return p
}

func (p *progress) add(n, tableRows, tableTotal int64) {
	p.done += n
	switch {
	case p.bar != nil:
		p.bar.Describe(fmt.Sprintf("%s %d/%d", p.table, tableRows, tableTotal))
		_ = p.bar.Add64(n)
	case p.lines && time.Since(p.lastLine) >= 10*time.Second:
		p.lastLine = time.Now()
		fmt.Fprintf(p.w, "%d of %d rows (%.0f %%); %s %d of %d\n", p.done, p.total, 100*float64(p.done)/float64(max(p.total, 1)), p.table, tableRows, tableTotal)
	}
}

func (p *progress) println(s string) {
	if p.w == nil {
		return
	}
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintln(p.w, s)
}

func (p *progress) finish() {
	switch {
	case p.bar != nil:
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	case p.lines:
		fmt.Fprintf(p.w, "%d of %d rows copied\n", p.done, p.total)
	}
}
