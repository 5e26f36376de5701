package privacy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestSubjectLookupsUseIndexes: every lookup of a person's rows, for
// access and erasure, searches an index; none scans a table. Without this,
// exports and erasures would slow down with the size of the database.
func TestSubjectLookupsUseIndexes(t *testing.T) {
	d := testutil.SQLite(t)
	ctx := context.Background()
	for _, kind := range []privacy.Subject{privacy.Customer, privacy.Staff} {
		ref := privacy.SubjectRef{Kind: kind, ID: 5, Email: "x@example.com"}
		for _, q := range privacy.SubjectQueries(privacy.Declared, ref) {
			rows, err := d.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.SQL, q.Args...)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(detail, "SCAN ") {
					t.Errorf("%s: the lookup of a person's rows scans: %s\n%s", q.Table, detail, q.SQL)
				}
			}
			rows.Close()
		}
	}
}
