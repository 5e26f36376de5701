package db

import (
	"context"
	"fmt"
	"sort"
)

// Table is a table of the live schema and its columns, in declaration order.
type Table struct {
	Name    string
	Columns []string
}

// Schema reads the tables and columns of the connected database: the
// privacy inventory test compares it with the declarations.
func (d *DB) Schema(ctx context.Context) ([]Table, error) {
	var q string
	switch d.Dialect {
	case SQLite:
		// Full-text (FTS5) tables and their shadow tables are indexes of
		// the tables they are built on, declared with those: left out.
		q = `SELECT m.name, p.name FROM sqlite_schema m JOIN pragma_table_info(m.name) p
		     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
		       AND NOT EXISTS (SELECT 1 FROM sqlite_schema v WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%'
		                       AND (m.name = v.name OR m.name IN (v.name || '_data', v.name || '_idx', v.name || '_content',
		                                                          v.name || '_docsize', v.name || '_config')))
		     ORDER BY m.name, p.cid`
	case Postgres:
		q = `SELECT table_name, column_name FROM information_schema.columns
		     WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`
	}
	rows, err := d.r.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	defer rows.Close()
	byName := map[string]*Table{}
	var names []string
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, fmt.Errorf("read schema: %w", err)
		}
		if byName[t] == nil {
			byName[t] = &Table{Name: t}
			names = append(names, t)
		}
		byName[t].Columns = append(byName[t].Columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	sort.Strings(names)
	out := make([]Table, 0, len(names))
	for _, n := range names {
		out = append(out, *byName[n])
	}
	return out, nil
}
