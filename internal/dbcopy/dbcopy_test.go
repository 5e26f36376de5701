package dbcopy_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/dbcopy"
	"github.com/storekeep/storekeep/internal/testutil"
)

// appTables lists the source's tables with db's Schema, which the privacy
// inventory test reads too: independent of the copy's own reading of the
// schema, so a table the copy skipped is noticed.
func appTables(t *testing.T, d *db.DB) []string {
	t.Helper()
	tables, err := d.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tb := range tables {
		switch tb.Name {
		case "goose_db_version", "db_copy", "db_copy_tables":
			continue
		}
		out = append(out, tb.Name)
	}
	return out
}

func count(t *testing.T, q db.Querier, table string) int64 {
	t.Helper()
	var n int64
	if err := q.QueryRowContext(context.Background(), `SELECT count(*) FROM "`+table+`"`).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// TestFixturesFillEveryTable: the demo and the fixtures leave no table
// empty, so that the copy of every table is exercised. A new table fails
// here until the demo seeds it or testdata/fixtures.sql has a row for it.
func TestFixturesFillEveryTable(t *testing.T) {
	d := openWrite(t, demoSource(t))
	var empty []string
	for _, name := range appTables(t, d) {
		if count(t, d, name) == 0 {
			empty = append(empty, name)
		}
	}
	if len(empty) > 0 {
		t.Fatalf("tables without a row after the demo and the fixtures: %s; add rows for them to testdata/fixtures.sql", strings.Join(empty, ", "))
	}
}

// TestCopyDemoIntoPostgres copies the demo's database with the fixtures of
// every table into a fresh PostgreSQL database, verifies it, and starts
// using it through the application's own code.
func TestCopyDemoIntoPostgres(t *testing.T) {
	ctx := context.Background()
	from := demoSource(t)
	to := testutil.PostgresURL(t)
	var out, prog bytes.Buffer
	var batches int
	res, err := dbcopy.Copy(ctx, dbcopy.Options{From: from, To: to, Out: &out, Progress: &prog, BatchRows: 7,
		OnBatch: func(string, int64) { batches++ }})
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, out.String())
	}
	if !res.OK() || res.Resumed {
		t.Fatalf("result: ok %v, resumed %v\n%s", res.OK(), res.Resumed, out.String())
	}
	src := openWrite(t, from)
	dst, err := db.Open(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()

	// Every table, counted by plain SQL on both sides, and named in the
	// verification.
	verified := map[string]bool{}
	for _, r := range res.Tables {
		verified[r.Table] = r.OK()
	}
	var total int64
	for _, name := range appTables(t, src) {
		n, m := count(t, src, name), count(t, dst, name)
		if n != m || n == 0 {
			t.Errorf("table %s: %d rows in the source, %d in the target", name, n, m)
		}
		if !verified[name] {
			t.Errorf("table %s is missing from the verification or differs", name)
		}
		total += n
	}
	if res.Copied != total || len(res.Tables) != len(appTables(t, src)) {
		t.Errorf("copied %d rows of %d tables; the source has %d rows in %d", res.Copied, len(res.Tables), total, len(appTables(t, src)))
	}
	if batches < 20 {
		t.Errorf("%d batches of 7 rows for %d rows", batches, total)
	}
	for _, want := range []string{"customers", "request_log", "ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the verification table does not mention %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(prog.String(), "rows") {
		t.Errorf("no progress shown: %q", prog.String())
	}

	// Values where the databases differ, read back from PostgreSQL.
	var data []byte
	var sealedBy []byte
	var sealed sql.NullString
	if err := dst.QueryRowContext(ctx, `SELECT data FROM acme_cache WHERE key = 'acme_account+key'`).Scan(&data); err != nil || !bytes.Equal(data, []byte{0, 0xff, 0x10, 0x20, 0x0a, 0x0d}) {
		t.Errorf("blob: %x, %v", data, err)
	}
	if err := dst.QueryRowContext(ctx, `SELECT sealed_by, sealed FROM analytics_salt_peers`).Scan(&sealedBy, &sealed); err != nil || sealedBy == nil || len(sealedBy) != 0 || sealed.Valid {
		t.Errorf("empty blob and NULL blob: %v (nil %v), %v, %v", sealedBy, sealedBy == nil, sealed, err)
	}
	var prefs, stats, marketing sql.NullBool
	if err := dst.QueryRowContext(ctx, `SELECT preferences, statistics, marketing FROM cookie_consents WHERE id = 100`).Scan(&prefs, &stats, &marketing); err != nil ||
		prefs != (sql.NullBool{Bool: true, Valid: true}) || stats != (sql.NullBool{Valid: true}) || marketing.Valid {
		t.Errorf("booleans: %v %v %v, %v", prefs, stats, marketing, err)
	}
	var at, discovered time.Time
	if err := dst.QueryRowContext(ctx, `SELECT at FROM request_log WHERE id = 100`).Scan(&at); err != nil || !at.Equal(time.Date(2026, 11, 30, 11, 0, 0, 999999000, time.UTC)) {
		t.Errorf("timestamp with nanoseconds: %v, %v", at, err)
	}
	if err := dst.QueryRowContext(ctx, `SELECT discovered_at FROM breaches WHERE id = 100`).Scan(&discovered); err != nil || !discovered.Equal(time.Date(2026, 11, 29, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("timestamp in another zone: %v, %v", discovered, err)
	}
	var ms int64
	if err := dst.QueryRowContext(ctx, `SELECT ms FROM analytics_engaged WHERE id = 100`).Scan(&ms); err != nil || ms != 9007199254740993 {
		t.Errorf("integer beyond 2^53: %d, %v", ms, err)
	}
	var snapshot string
	if err := dst.QueryRowContext(ctx, `SELECT snapshot FROM breach_versions WHERE id = 100`).Scan(&snapshot); err != nil || !strings.Contains(snapshot, `tab\there, quote \" and backslash \\"}`) {
		t.Errorf("text: %q, %v", snapshot, err)
	}
	// The references copied after the tables.
	var merged, line sql.NullInt64
	if err := dst.QueryRowContext(ctx, `SELECT merged_into FROM support_tickets WHERE id = 1`).Scan(&merged); err != nil || merged.Int64 != 3 {
		t.Errorf("ticket 1 merged into %v, %v; want 3", merged, err)
	}
	if err := dst.QueryRowContext(ctx, `SELECT order_line_id FROM licenses WHERE id = 2`).Scan(&line); err != nil || line.Int64 != 100 {
		t.Errorf("license 2's order line %v, %v; want 100", line, err)
	}

	// Using it: the audit chain holds, a copied customer reads, a new one
	// gets a fresh ID from the reset sequence, and the content triggers
	// are on again.
	if n, err := audit.Verify(ctx, dst, nil); err != nil || n != count(t, src, "audit_log") {
		t.Errorf("audit chain of the copy: %d entries, %v", n, err)
	}
	c1, err := customers.ByID(ctx, dst, 1)
	if err != nil {
		t.Fatal(err)
	}
	c1src, err := customers.ByID(ctx, src, 1)
	if err != nil || c1src.Email != c1.Email || !c1src.CreatedAt.Truncate(time.Microsecond).Equal(c1.CreatedAt) {
		t.Errorf("customer 1: %+v in the copy, %+v in the source (%v)", c1, c1src, err)
	}
	var maxID int64
	if err := dst.QueryRowContext(ctx, `SELECT max(id) FROM customers`).Scan(&maxID); err != nil {
		t.Fatal(err)
	}
	var created customers.Customer
	err = dst.Tx(ctx, func(tx *sql.Tx) error {
		raw, err := customers.RequestSignIn(ctx, tx, "new-after-copy@example.org", time.Now())
		if err != nil {
			return err
		}
		created, _, err = customers.CompleteSignIn(ctx, tx, raw, time.Now())
		return err
	})
	if err != nil || created.ID != maxID+1 {
		t.Errorf("new customer after the copy: id %d, %v; want %d", created.ID, err, maxID+1)
	}
	var before, after int64
	if err := dst.QueryRowContext(ctx, `SELECT n FROM content_version`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	var srcVersion int64
	if err := src.QueryRowContext(ctx, `SELECT n FROM content_version`).Scan(&srcVersion); err != nil || before != srcVersion {
		t.Errorf("content_version %d in the copy, %d in the source (%v): the copy's inserts must not count as changes", before, srcVersion, err)
	}
	if _, err := dst.ExecContext(ctx, `UPDATE products SET position = position WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if err := dst.QueryRowContext(ctx, `SELECT n FROM content_version`).Scan(&after); err != nil || after != before+1 {
		t.Errorf("content_version after a change of products: %d, want %d (are the triggers on?)", after, before+1)
	}

	// A second run finds the copy complete and verifies it again.
	out.Reset()
	res, err = dbcopy.Copy(ctx, dbcopy.Options{From: from, To: to, Out: &out})
	if err == nil || !errors.Is(err, dbcopy.ErrMismatch) {
		t.Errorf("copy again after the target was used: %v, want a difference (customers)", err)
	}
	if !strings.Contains(out.String(), "completed") || res == nil || res.Copied != 0 {
		t.Errorf("second run:\n%s", out.String())
	}
}

// TestVerifyFindsADifference: the verification can fail, and names the
// table whose rows differ, also when only one value changed.
func TestVerifyFindsADifference(t *testing.T) {
	ctx := context.Background()
	from, to := demoSource(t), testutil.PostgresURL(t)
	if _, err := dbcopy.Copy(ctx, dbcopy.Options{From: from, To: to}); err != nil {
		t.Fatal(err)
	}
	dst, err := db.Open(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if res, err := dbcopy.Verify(ctx, dbcopy.Options{From: from, To: to}); err != nil || !res.OK() {
		t.Fatalf("verify the copy: %v", err)
	}
	if _, err := dst.ExecContext(ctx, `UPDATE support_messages SET body_text = body_text || '.' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := dbcopy.Verify(ctx, dbcopy.Options{From: from, To: to, Out: &out})
	if !errors.Is(err, dbcopy.ErrMismatch) || !strings.Contains(err.Error(), "support_messages") {
		t.Fatalf("verify after a change: %v", err)
	}
	for _, r := range res.Tables {
		if r.OK() == (r.Table == "support_messages") {
			t.Errorf("%s: ok %v", r.Table, r.OK())
		}
	}
	if !strings.Contains(out.String(), "DIFFERS") {
		t.Errorf("table:\n%s", out.String())
	}
}

// TestResumeAfterCancel interrupts a copy after some batches of the request
// log (a cancelled context, as Ctrl-C gives) and runs it again: it
// continues from the last committed batch, copies each row once, and the
// result verifies.
func TestResumeAfterCancel(t *testing.T) {
	from, to := demoSource(t), testutil.PostgresURL(t)
	addRequestLog(t, from, 3000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen int64
	_, err := dbcopy.Copy(ctx, dbcopy.Options{From: from, To: to, BatchRows: 200, OnBatch: func(table string, rows int64) {
		if table == "request_log" && rows >= 1000 {
			seen = rows
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted copy: %v", err)
	}
	dst, err := db.Open(context.Background(), to)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	var committed int64
	if err := dst.QueryRowContext(context.Background(), `SELECT rows FROM db_copy_tables WHERE name = 'request_log'`).Scan(&committed); err != nil {
		t.Fatal(err)
	}
	var committedAll int64
	if err := dst.QueryRowContext(context.Background(), `SELECT sum(rows) FROM db_copy_tables`).Scan(&committedAll); err != nil {
		t.Fatal(err)
	}
	if got := count(t, dst, "request_log"); got != committed || committed < seen || committed >= 3001 {
		t.Fatalf("after the interruption: %d rows of request_log, progress says %d, %d were reported", got, committed, seen)
	}

	// Another source must not continue this copy.
	other := demoSource(t)
	d := openWrite(t, other)
	if _, err := d.ExecContext(context.Background(), `UPDATE goose_db_version SET tstamp = '2020-01-01 00:00:00' WHERE version_id = 1`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := dbcopy.Copy(context.Background(), dbcopy.Options{From: other, To: to}); !errors.Is(err, dbcopy.ErrNotEmpty) || !strings.Contains(err.Error(), "another database") {
		t.Fatalf("a copy of another source into the interrupted one: %v", err)
	}

	var out bytes.Buffer
	res, err := dbcopy.Copy(context.Background(), dbcopy.Options{From: from, To: to, BatchRows: 200, Progress: &out})
	if err != nil {
		t.Fatal(err)
	}
	src := openWrite(t, from)
	if !res.Resumed || !res.OK() || count(t, dst, "request_log") != count(t, src, "request_log") {
		t.Fatalf("resumed %v, ok %v, request_log %d of %d", res.Resumed, res.OK(), count(t, dst, "request_log"), count(t, src, "request_log"))
	}
	var total int64
	for _, name := range appTables(t, src) {
		total += count(t, src, name)
	}
	if res.Copied != total-committedAll {
		t.Errorf("the second run copied %d rows; %d of %d were left: rows copied twice or skipped", res.Copied, total-committedAll, total)
	}
	if !strings.Contains(out.String(), "Continuing the interrupted copy") {
		t.Errorf("progress of the resumed run: %q", out.String())
	}
}

// TestRefusesTargetWithData: a target with a row in any application table
// is refused, and left as it was.
func TestRefusesTargetWithData(t *testing.T) {
	ctx := context.Background()
	from := demoSource(t)
	for _, tc := range []struct {
		name  string
		setup string
		want  string
	}{
		{"a customer", `INSERT INTO customers (email, created_at, updated_at) VALUES ('x@example.org', now(), now())`, "customers (1+ rows)"},
		{"the migration's own row changed", `UPDATE content_version SET n = 7`, "content_version (1 rows, changed"},
		{"another application", `CREATE TABLE invoices_2019 (id int); INSERT INTO invoices_2019 VALUES (1)`, "not Storekeep's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pg *db.DB
			var to string
			if tc.name == "another application" {
				to = testutil.PostgresURL(t)
				var err error
				if pg, err = db.Open(ctx, to); err != nil {
					t.Fatal(err)
				}
				defer pg.Close()
			} else {
				pg = testutil.Postgres(t)
				to = urlOf(t, pg)
			}
			if _, err := pg.ExecContext(ctx, tc.setup); err != nil {
				t.Fatal(err)
			}
			before := tableCounts(t, pg)
			_, err := dbcopy.Copy(ctx, dbcopy.Options{From: from, To: to})
			if !errors.Is(err, dbcopy.ErrNotEmpty) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("copy into a target with %s: %v; want it refused naming %q", tc.name, err, tc.want)
			}
			if after := tableCounts(t, pg); after != before {
				t.Errorf("the refused copy changed the target:\n%s\n->\n%s", before, after)
			}
		})
	}
}

// tableCounts describes a PostgreSQL schema: its tables and their rows.
func tableCounts(t *testing.T, d *db.DB) string {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' ORDER BY relname`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s=%d ", n, count(t, d, n))
	}
	return b.String()
}

// TestRefusesVersionMismatch: a source older than this build (not migrated
// yet) and a target newer than the source are refused, the target
// unchanged.
func TestRefusesVersionMismatch(t *testing.T) {
	ctx := context.Background()
	t.Run("old source", func(t *testing.T) {
		from, to := demoSource(t), testutil.PostgresURL(t)
		d := openWrite(t, from)
		if _, err := d.ExecContext(ctx, `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
			t.Fatal(err)
		}
		d.Close()
		_, err := dbcopy.Copy(ctx, dbcopy.Options{From: from, To: to})
		if !errors.Is(err, dbcopy.ErrVersionMismatch) || !strings.Contains(err.Error(), "storekeep migrate --db") {
			t.Fatalf("old source: %v", err)
		}
		pg, err := db.Open(ctx, to)
		if err != nil {
			t.Fatal(err)
		}
		defer pg.Close()
		if s := tableCounts(t, pg); s != "" {
			t.Errorf("the refused copy created %s", s)
		}
	})
	t.Run("newer target", func(t *testing.T) {
		from := demoSource(t)
		pg := testutil.Postgres(t)
		if _, err := pg.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`); err != nil {
			t.Fatal(err)
		}
		to := urlOf(t, pg)
		_, err := dbcopy.Copy(ctx, dbcopy.Options{From: from, To: to})
		if !errors.Is(err, dbcopy.ErrVersionMismatch) || !strings.Contains(err.Error(), "9999") {
			t.Fatalf("newer target: %v", err)
		}
		if n := count(t, pg, "db_copy"); n != 0 {
			t.Errorf("the refused copy recorded itself")
		}
	})
}

// urlOf finds the URL of a test database testutil.Postgres opened, by its
// schema.
func urlOf(t *testing.T, d *db.DB) string {
	t.Helper()
	var schema string
	if err := d.QueryRowContext(context.Background(), `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	return testutil.WithSearchPath(os.Getenv(testutil.PostgresEnv), schema)
}

// TestBadInput: what is not a Storekeep database, an unreachable or
// misspelt PostgreSQL, each refused by name with what to do.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	good := demoSource(t)
	to := testutil.PostgresURL(t)
	dir := t.TempDir()
	garbage := dir + "/garbage.db"
	os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 300), 0o600)
	other := dir + "/other.db"
	od, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := od.Exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`); err != nil {
		t.Fatal(err)
	}
	od.Close()
	for _, tc := range []struct {
		name, from, to string
		err            error
		want           string
	}{
		{"missing file", dir + "/nope.db", to, dbcopy.ErrNotStorekeep, "there is no file"},
		{"directory", dir, to, dbcopy.ErrNotStorekeep, "is a directory"},
		{"not SQLite", garbage, to, dbcopy.ErrNotStorekeep, "not a SQLite database"},
		{"another SQLite database", other, to, dbcopy.ErrNotStorekeep, "not Storekeep's"},
		{"closed port", good, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=3", dbcopy.ErrUnreachable, "check that the server runs"},
		{"no such database", good, strings.Replace(os.Getenv(testutil.PostgresEnv), "/test?", "/no_such_db_dbcopy?", 1), dbcopy.ErrUnreachable, "does not exist"},
		{"bad port", good, "postgres://u:secret@127.0.0.1:port/x", dbcopy.ErrBadTarget, "postgres://user:password@host:5432/dbname"},
		{"bad option", good, "postgres://u:secret@127.0.0.1/x?sslmode=sometimes", dbcopy.ErrBadTarget, "cannot be parsed"},
		{"SQLite target", good, dir + "/x.db", dbcopy.ErrBadTarget, "not a postgres:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dbcopy.Copy(ctx, dbcopy.Options{From: tc.from, To: tc.to})
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %v mentioning %q", err, tc.err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the password is in the message: %v", err)
			}
		})
	}
	if _, err := dbcopy.Verify(ctx, dbcopy.Options{From: good, To: to}); !errors.Is(err, dbcopy.ErrVersionMismatch) || !strings.Contains(err.Error(), "holds no Storekeep database") {
		t.Errorf("verify an empty target: %v", err)
	}
	if _, err := os.Stat(dir + "/nope.db"); err == nil {
		t.Error("the copy created the missing source file")
	}
}

// TestLargeRowsMakeSmallerPages: rows of files end a page before its row
// count does, so a batch of attachments does not hold gigabytes.
func TestLargeRowsMakeSmallerPages(t *testing.T) {
	ctx := context.Background()
	from, to := demoSource(t), testutil.PostgresURL(t)
	d := openWrite(t, from)
	if _, err := d.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 10)
		INSERT INTO support_attachments (message_id, filename, content_type, size, sha256, data)
		SELECT 1, 'f' || i || '.bin', 'application/octet-stream', 4096, 'x', randomblob(4096) FROM s`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	defer dbcopy.SetMaxBatchBytes(10000)()
	pages := 0
	res, err := dbcopy.Copy(ctx, dbcopy.Options{From: from, To: to, OnBatch: func(table string, _ int64) {
		if table == "support_attachments" {
			pages++
		}
	}})
	if err != nil || !res.OK() {
		t.Fatal(err)
	}
	// 11 rows of which 10 of 4 KiB: three a page.
	if pages < 4 {
		t.Errorf("support_attachments in %d pages, want at least 4 with 10,000 bytes a page", pages)
	}
}
