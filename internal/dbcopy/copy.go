package dbcopy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/storekeep/storekeep/internal/db"
)

// maxBatchBytes bounds the text and bytes of one page, whatever its rows.
var maxBatchBytes = 32 << 20

// batch is a page of converted source rows, in rowid order.
type batch struct {
	rows [][]any
	last int64 // rowid of the last row
	done bool  // the last page of the table
}

// copyAll copies every table in plan order, then the deferred references,
// then resets the sequences and records that the copy is complete.
func (c *copier) copyAll(ctx context.Context, st *copyState) error {
	counts := map[string]int64{}
	var total, already int64
	for _, t := range c.order {
		var n int64
		if err := c.src.tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quote(t.name)).Scan(&n); err != nil {
			return fmt.Errorf("count the source's table %s: %w", t.name, err)
		}
		counts[t.name] = n
		total += n
		already += st.tables[t.name].rows
	}
	c.prog = newProgress(c.opt.Progress, total, already)
	defer c.prog.finish()
	if st.resumed {
		c.prog.println(fmt.Sprintf("Continuing the interrupted copy of %s: %d of %d rows were copied.", c.opt.From, already, total))
	}
	for i, t := range c.order {
		c.prog.table = fmt.Sprintf("[%d/%d] %s", i+1, len(c.order), t.name)
		if err := c.copyTable(ctx, t, st.tables[t.name], counts[t.name]); err != nil {
			return err
		}
	}
	for _, t := range c.order {
		for _, col := range t.deferred {
			if err := c.copyLinks(ctx, t, col, st.tables[t.name+"."+col]); err != nil {
				return err
			}
		}
	}
	if err := c.resetSequences(ctx); err != nil {
		return err
	}
	if _, err := c.conn.Exec(ctx, `UPDATE db_copy SET copied_at = $1 WHERE id = 1`, c.opt.now()); err != nil {
		return fmt.Errorf("record the end of the copy: %w", err)
	}
	return nil
}

// copyTable copies one table from where its progress says, reading the
// next page from SQLite while the previous one is written to PostgreSQL.
func (c *copier) copyTable(ctx context.Context, t *table, ts tableState, count int64) error {
	if ts.done {
		return nil
	}
	start, startRows := time.Now(), ts.rows
	names := make([]string, len(t.columns))
	sel := make([]string, len(t.columns))
	for i, col := range t.columns {
		names[i] = col.name
		sel[i] = quote(col.name)
		if contains(t.deferred, col.name) {
			sel[i] = "NULL"
		}
	}
	q := fmt.Sprintf(`SELECT rowid, %s FROM %s WHERE rowid > ? ORDER BY rowid LIMIT %d`, strings.Join(sel, ", "), quote(t.name), c.opt.BatchRows)
	g, gctx := errgroup.WithContext(ctx)
	pages := make(chan batch, 2)
	g.Go(func() error {
		defer close(pages)
		last := ts.lastKey
		for {
			b, err := c.readPage(gctx, t, q, last)
			if err != nil {
				return err
			}
			select {
			case pages <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
			if b.done {
				return nil
			}
			last = b.last
		}
	})
	g.Go(func() error {
		first := ts == (tableState{})
		rows, last := ts.rows, ts.lastKey
		for b := range pages {
			if len(b.rows) > 0 {
				last = b.last
			}
			n := rows + int64(len(b.rows))
			if err := c.writePage(gctx, t, names, b, first, tableState{lastKey: last, rows: n, done: b.done}); err != nil {
				return err
			}
			first = false
			rows = n
			c.copied += int64(len(b.rows))
			c.prog.add(int64(len(b.rows)), rows, count)
			if c.opt.OnBatch != nil {
				c.opt.OnBatch(t.name, rows)
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	if n := count - startRows; n > 1000 {
		el := time.Since(start)
		c.prog.println(fmt.Sprintf("  %-28s %10d rows in %6.1fs (%.0f rows/s)", t.name, n, el.Seconds(), float64(n)/el.Seconds()))
	}
	return nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// readPage reads and converts the rows after rowid last.
func (c *copier) readPage(ctx context.Context, t *table, q string, last int64) (batch, error) {
	rows, err := c.src.tx.QueryContext(ctx, q, last)
	if err != nil {
		return batch{}, fmt.Errorf("read the source's table %s: %w", t.name, err)
	}
	defer rows.Close()
	b := batch{rows: make([][]any, 0, c.opt.BatchRows)}
	raw := make([]any, len(t.columns)+1)
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	size, full := 0, false
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return batch{}, fmt.Errorf("read the source's table %s: %w", t.name, err)
		}
		rowid, _ := raw[0].(int64)
		out := make([]any, len(t.columns))
		for i, col := range t.columns {
			v, err := convert(raw[i+1], col.kind)
			if err != nil {
				return batch{}, fmt.Errorf("table %s, row %d (rowid), column %s: %w; fix the value in the source and copy again", t.name, rowid, col.name, err)
			}
			out[i] = v
			switch x := v.(type) {
			case string:
				size += len(x)
			case []byte:
				size += len(x)
			}
		}
		b.rows = append(b.rows, out)
		b.last = rowid
		// Rows of files (support attachments, raw mail) make a page of
		// many megabytes: it ends early, the next starts after it.
		if size >= maxBatchBytes {
			full = true
			break
		}
	}
	if err := rows.Err(); err != nil {
		return batch{}, fmt.Errorf("read the source's table %s: %w", t.name, err)
	}
	b.done = !full && len(b.rows) < c.opt.BatchRows
	return b, nil
}

// writePage writes one page and the table's progress in one transaction.
// The first page of a table first empties it: only the rows a migration
// inserted (content_version's one row, say) can be there, since the target
// was empty or the table's progress is nothing. User triggers are off for
// the transaction (content_version must not count the copy's inserts as
// changes; DDL is transactional, so an interruption leaves them on).
func (c *copier) writePage(ctx context.Context, t *table, names []string, b batch, first bool, next tableState) error {
	return pgx.BeginFunc(ctx, c.conn, func(tx pgx.Tx) error {
		if t.triggers {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+quote(t.name)+` DISABLE TRIGGER USER`); err != nil {
				return fmt.Errorf("switch off the triggers of %s for the copy: %w (the copy must run as the owner of the tables)", t.name, err)
			}
		}
		if first {
			if _, err := tx.Exec(ctx, `DELETE FROM `+quote(t.name)); err != nil {
				return fmt.Errorf("empty the target's table %s: %w", t.name, err)
			}
		}
		if len(b.rows) > 0 {
			if err := c.insert(ctx, tx, t, names, b.rows); err != nil {
				return fmt.Errorf("write rows of %s up to rowid %d: %w", t.name, b.last, err)
			}
		}
		if t.triggers {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+quote(t.name)+` ENABLE TRIGGER USER`); err != nil {
				return fmt.Errorf("switch the triggers of %s back on: %w", t.name, err)
			}
		}
		return c.saveProgress(ctx, tx, t.name, next)
	})
}

func (c *copier) saveProgress(ctx context.Context, tx pgx.Tx, name string, ts tableState) error {
	_, err := tx.Exec(ctx, `INSERT INTO db_copy_tables (name, last_key, rows, done, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (name) DO UPDATE SET last_key = excluded.last_key, rows = excluded.rows, done = excluded.done, updated_at = excluded.updated_at`,
		name, ts.lastKey, ts.rows, ts.done, c.opt.now())
	if err != nil {
		return fmt.Errorf("record the progress of %s: %w", name, err)
	}
	return nil
}

// insert writes rows with COPY FROM, or with multi-row INSERTs when the
// options ask for them.
func (c *copier) insert(ctx context.Context, tx pgx.Tx, t *table, names []string, rows [][]any) error {
	if !c.opt.Insert {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, names, pgx.CopyFromRows(rows))
		return err
	}
	cols := make([]string, len(names))
	for i, n := range names {
		cols[i] = quote(n)
	}
	head := `INSERT INTO ` + quote(t.name) + ` (` + strings.Join(cols, ", ") + `) VALUES `
	per := max(1, min(len(rows), 65535/len(names), 1000))
	for len(rows) > 0 {
		n := min(per, len(rows))
		var q strings.Builder
		q.WriteString(head)
		db.Postgres.Rows(&q, n, len(names))
		args := make([]any, 0, n*len(names))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// copyLinks fills in a deferred reference column once every table is
// there: the source's non-NULL values, by primary key, in batches with
// their progress. Setting a value twice sets it to the same value, so the
// pass is safe to repeat.
func (c *copier) copyLinks(ctx context.Context, t *table, col string, ts tableState) error {
	if ts.done {
		return nil
	}
	name := t.name + "." + col
	pk, ref := t.col(t.pk[0]), t.col(col)
	if pk.kind != kindInt || ref.kind != kindInt {
		return fmt.Errorf("the reference %s is copied after the tables, which the copy can do for integer keys only", name)
	}
	q := fmt.Sprintf(`SELECT rowid, %s, %s FROM %s WHERE rowid > ? AND %s IS NOT NULL ORDER BY rowid LIMIT %d`,
		quote(pk.name), quote(col), quote(t.name), quote(col), c.opt.BatchRows)
	upd := fmt.Sprintf(`UPDATE %s AS t SET %s = v.c FROM unnest($1::%s[], $2::%s[]) AS v(k, c) WHERE t.%s = v.k`,
		quote(t.name), quote(col), pk.pgType, ref.pgType, quote(pk.name))
	last, n := ts.lastKey, ts.rows
	for {
		var keys, vals []int64
		var rowid int64
		rows, err := c.src.tx.QueryContext(ctx, q, last)
		if err != nil {
			return fmt.Errorf("read %s from the source: %w", name, err)
		}
		for rows.Next() {
			var k, v any
			if err := rows.Scan(&rowid, &k, &v); err != nil {
				rows.Close()
				return fmt.Errorf("read %s from the source: %w", name, err)
			}
			kv, err1 := convert(k, kindInt)
			vv, err2 := convert(v, kindInt)
			if err1 != nil || err2 != nil {
				rows.Close()
				return fmt.Errorf("table %s, row %d (rowid): %s is not an integer", t.name, rowid, col)
			}
			keys, vals = append(keys, kv.(int64)), append(vals, vv.(int64))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read %s from the source: %w", name, err)
		}
		done := len(keys) < c.opt.BatchRows
		if len(keys) > 0 {
			last = rowid
		}
		n += int64(len(keys))
		err = pgx.BeginFunc(ctx, c.conn, func(tx pgx.Tx) error {
			if t.triggers {
				if _, err := tx.Exec(ctx, `ALTER TABLE `+quote(t.name)+` DISABLE TRIGGER USER`); err != nil {
					return err
				}
			}
			if len(keys) > 0 {
				if _, err := tx.Exec(ctx, upd, keys, vals); err != nil {
					return fmt.Errorf("fill in %s: %w", name, err)
				}
			}
			if t.triggers {
				if _, err := tx.Exec(ctx, `ALTER TABLE `+quote(t.name)+` ENABLE TRIGGER USER`); err != nil {
					return err
				}
			}
			return c.saveProgress(ctx, tx, name, tableState{lastKey: last, rows: n, done: done})
		})
		if err != nil {
			return err
		}
		if c.opt.OnBatch != nil {
			c.opt.OnBatch(name, n)
		}
		if done {
			return nil
		}
	}
}

// resetSequences sets the sequence behind every identity (or serial)
// column past the largest copied value, so that the next row inserted
// gets a fresh ID rather than colliding with a copied one.
func (c *copier) resetSequences(ctx context.Context) error {
	for _, t := range c.order {
		for _, col := range t.columns {
			if !col.identity {
				continue
			}
			q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(%s), 0) + 1, false) FROM %s`, quote(col.name), quote(t.name))
			if _, err := c.conn.Exec(ctx, q, quote(t.name), col.name); err != nil {
				return fmt.Errorf("reset the sequence of %s.%s: %w", t.name, col.name, err)
			}
		}
	}
	return nil
}
