package dbcopy

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// notCopied are the tables of the schema the copy leaves alone: goose's
// history (the target's own migration run writes it) and the copy's own
// state (internal/db/migrations/00046_db_copy.sql).
var notCopied = map[string]bool{"goose_db_version": true, "db_copy": true, "db_copy_tables": true}

// column is a column of a target table.
type column struct {
	name     string
	pgType   string // format_type, for casts
	kind     kind
	notNull  bool
	identity bool // an identity column or a serial: its sequence is reset after the copy
}

// table is an application table as the target's catalog describes it.
type table struct {
	name     string
	columns  []column
	pk       []string
	triggers bool // user triggers, switched off while the copy writes
	// deferred columns are references copied after every table (see plan).
	deferred []string
}

func (t *table) col(name string) *column {
	for i := range t.columns {
		if t.columns[i].name == name {
			return &t.columns[i]
		}
	}
	return nil
}

// foreignKey is one foreign key constraint: from table's columns to parent.
type foreignKey struct {
	name, table, parent string
	columns             []string
	nullable            bool // every column may be NULL
}

// targetSchema reads the tables of the target's current schema with their
// columns, primary keys, foreign keys and triggers.
func targetSchema(ctx context.Context, conn *pgx.Conn) (map[string]*table, []foreignKey, error) {
	tables := map[string]*table{}
	rows, err := conn.Query(ctx, `
		SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
		       a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false)
		FROM pg_class c
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
		ORDER BY c.relname, a.attnum`)
	if err != nil {
		return nil, nil, fmt.Errorf("read the target's tables: %w", err)
	}
	for rows.Next() {
		var tn string
		var c column
		if err := rows.Scan(&tn, &c.name, &c.pgType, &c.notNull, &c.identity); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read the target's tables: %w", err)
		}
		if tables[tn] == nil {
			tables[tn] = &table{name: tn}
		}
		tables[tn].columns = append(tables[tn].columns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read the target's tables: %w", err)
	}

	rows, err = conn.Query(ctx, `
		SELECT c.relname, a.attname
		FROM pg_index i
		JOIN pg_class c ON c.oid = i.indrelid
		JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n) ON true
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
		WHERE i.indisprimary AND c.relnamespace = current_schema()::regnamespace
		ORDER BY c.relname, k.n`)
	if err != nil {
		return nil, nil, fmt.Errorf("read the target's primary keys: %w", err)
	}
	for rows.Next() {
		var tn, cn string
		if err := rows.Scan(&tn, &cn); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read the target's primary keys: %w", err)
		}
		if t := tables[tn]; t != nil {
			t.pk = append(t.pk, cn)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read the target's primary keys: %w", err)
	}

	var fks []foreignKey
	rows, err = conn.Query(ctx, `
		SELECT con.conname, c.relname, p.relname, array_agg(a.attname::text ORDER BY k.n), bool_and(NOT a.attnotnull)
		FROM pg_constraint con
		JOIN pg_class c ON c.oid = con.conrelid
		JOIN pg_class p ON p.oid = con.confrelid
		JOIN LATERAL unnest(con.conkey) WITH ORDINALITY k(attnum, n) ON true
		JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
		WHERE con.contype = 'f' AND con.connamespace = current_schema()::regnamespace
		GROUP BY con.conname, c.relname, p.relname
		ORDER BY c.relname, con.conname`)
	if err != nil {
		return nil, nil, fmt.Errorf("read the target's foreign keys: %w", err)
	}
	for rows.Next() {
		var fk foreignKey
		if err := rows.Scan(&fk.name, &fk.table, &fk.parent, &fk.columns, &fk.nullable); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read the target's foreign keys: %w", err)
		}
		fks = append(fks, fk)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read the target's foreign keys: %w", err)
	}

	rows, err = conn.Query(ctx, `
		SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, nil, fmt.Errorf("read the target's triggers: %w", err)
	}
	for rows.Next() {
		var tn string
		if err := rows.Scan(&tn); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read the target's triggers: %w", err)
		}
		if t := tables[tn]; t != nil {
			t.triggers = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read the target's triggers: %w", err)
	}
	for _, t := range tables {
		for i := range t.columns {
			k, err := kindOf(t.columns[i].pgType)
			if err != nil {
				return nil, nil, fmt.Errorf("column %s.%s: %w", t.name, t.columns[i].name, err)
			}
			t.columns[i].kind = k
		}
	}
	return tables, fks, nil
}

// sourceSchema reads the tables of the SQLite source and their columns.
// Full-text (FTS5) tables and their shadow tables are indexes of the
// tables they are built on, rebuilt by SQLite's triggers; PostgreSQL has
// GIN indexes instead (migration 00028): they are left out, as
// internal/db's Schema leaves them out. withoutRowid names the tables
// declared WITHOUT ROWID, which the copy cannot page through.
func sourceSchema(ctx context.Context, q querier) (cols map[string][]string, withoutRowid []string, err error) {
	rows, err := q.QueryContext(ctx, `
		SELECT m.name, p.name, m.sql LIKE '%WITHOUT ROWID%' FROM sqlite_schema m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
		  AND NOT EXISTS (SELECT 1 FROM sqlite_schema v WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%'
		                  AND (m.name = v.name OR m.name IN (v.name || '_data', v.name || '_idx', v.name || '_content',
		                                                     v.name || '_docsize', v.name || '_config')))
		ORDER BY m.name, p.cid`)
	if err != nil {
		return nil, nil, fmt.Errorf("read the source's tables: %w", err)
	}
	defer rows.Close()
	cols = map[string][]string{}
	for rows.Next() {
		var t, c string
		var noRowid bool
		if err := rows.Scan(&t, &c, &noRowid); err != nil {
			return nil, nil, fmt.Errorf("read the source's tables: %w", err)
		}
		if _, seen := cols[t]; !seen && noRowid {
			withoutRowid = append(withoutRowid, t)
		}
		cols[t] = append(cols[t], c)
	}
	return cols, withoutRowid, rows.Err()
}

// compareSchemas checks that source and target have the same application
// tables with the same columns: at the same schema version they do, unless
// someone changed one of them by hand.
func compareSchemas(src map[string][]string, dst map[string]*table) error {
	var probs []string
	for name, cols := range src {
		if notCopied[name] {
			continue
		}
		t := dst[name]
		if t == nil {
			probs = append(probs, "table "+name+" is missing in the target")
			continue
		}
		for _, c := range cols {
			if t.col(c) == nil {
				probs = append(probs, "column "+name+"."+c+" is missing in the target")
			}
		}
		for _, c := range t.columns {
			if !slices.Contains(cols, c.name) {
				probs = append(probs, "column "+name+"."+c.name+" is missing in the source")
			}
		}
	}
	for name := range dst {
		if _, ok := src[name]; !ok && !notCopied[name] {
			probs = append(probs, "table "+name+" is missing in the source")
		}
	}
	if len(probs) > 0 {
		sort.Strings(probs)
		return fmt.Errorf("%w: the schemas of source and target differ although their versions agree (%s); was one of them changed by hand?", ErrVersionMismatch, strings.Join(probs, "; "))
	}
	return nil
}

// plan orders the application tables so that every table comes after the
// tables it refers to: the order is derived from the foreign keys of the
// schema, never listed by hand, so a new table is copied in its place
// without anyone naming it. Among tables free to go, names decide, so the
// order is the same on every run. A reference that the order cannot
// satisfy, a table referring to itself (a ticket merged into another) or
// a cycle (licenses and the order lines that renew them), is deferred when
// its column may be NULL: the table is copied with the column empty, and
// the column is filled in once every table is there.
func plan(tables map[string]*table, fks []foreignKey) ([]*table, error) {
	deps := map[string]map[string][]foreignKey{} // table -> parent -> constraints
	for name := range tables {
		if !notCopied[name] {
			deps[name] = map[string][]foreignKey{}
		}
	}
	defer1 := func(fk foreignKey) error {
		if !fk.nullable || len(fk.columns) != 1 {
			return fmt.Errorf("table %s refers to %s through %s, which cannot be NULL, in a cycle or to itself: the copy cannot order it", fk.table, fk.parent, strings.Join(fk.columns, ", "))
		}
		t := tables[fk.table]
		if len(t.pk) != 1 {
			return fmt.Errorf("table %s has a reference (%s) copied after the tables, but its primary key has %d columns; the copy needs one", t.name, fk.columns[0], len(t.pk))
		}
		if !slices.Contains(t.deferred, fk.columns[0]) {
			t.deferred = append(t.deferred, fk.columns[0])
		}
		return nil
	}
	for _, fk := range fks {
		if deps[fk.table] == nil || deps[fk.parent] == nil {
			continue
		}
		if fk.table == fk.parent {
			if err := defer1(fk); err != nil {
				return nil, err
			}
			continue
		}
		deps[fk.table][fk.parent] = append(deps[fk.table][fk.parent], fk)
	}
	var order []*table
	done := map[string]bool{}
	for len(done) < len(deps) {
		var ready []string
		for name, parents := range deps {
			if done[name] {
				continue
			}
			free := true
			for p := range parents {
				if !done[p] {
					free = false
					break
				}
			}
			if free {
				ready = append(ready, name)
			}
		}
		if len(ready) == 0 {
			// A cycle: defer the first nullable reference among the
			// tables left, by name, and try again.
			var cands []foreignKey
			for name, parents := range deps {
				if done[name] {
					continue
				}
				for p, list := range parents {
					if done[p] {
						continue
					}
					for _, fk := range list {
						if fk.nullable && len(fk.columns) == 1 {
							cands = append(cands, fk)
						}
					}
				}
			}
			if len(cands) == 0 {
				var left []string
				for name := range deps {
					if !done[name] {
						left = append(left, name)
					}
				}
				sort.Strings(left)
				return nil, fmt.Errorf("the foreign keys between %s form a cycle without a column that may be NULL: the copy cannot order them", strings.Join(left, ", "))
			}
			sort.Slice(cands, func(i, j int) bool {
				if cands[i].table != cands[j].table {
					return cands[i].table < cands[j].table
				}
				return cands[i].name < cands[j].name
			})
			fk := cands[0]
			if err := defer1(fk); err != nil {
				return nil, err
			}
			list := deps[fk.table][fk.parent]
			list = slices.DeleteFunc(list, func(x foreignKey) bool { return x.name == fk.name })
			if len(list) == 0 {
				delete(deps[fk.table], fk.parent)
			} else {
				deps[fk.table][fk.parent] = list
			}
			continue
		}
		sort.Strings(ready)
		for _, name := range ready {
			done[name] = true
			order = append(order, tables[name])
		}
	}
	for _, t := range order {
		sort.Strings(t.deferred)
	}
	return order, nil
}
