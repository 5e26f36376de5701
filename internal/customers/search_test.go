package customers_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestSearchFoldsCaseBeyondASCII: staff find "Öztürk" by "öztürk" (and
// the other way round) on SQLite as on PostgreSQL; SQLite's lower() folds
// ASCII only.
func TestSearchFoldsCaseBeyondASCII(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		named := func(email, name string) {
			c := signUp(t, d, email)
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				_, err := customers.UpdateProfile(ctx, tx, c.ID, customers.Profile{Name: name}, start)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		named("ayse@example.com", "Ayşe Öztürk")
		named("zoe@example.com", "ZOË ÅBERG")
		named("pct@example.com", "100% Mustermann_GmbH")
		for _, tc := range []struct {
			q    string
			want []string
		}{
			{"öztürk", []string{"ayse@example.com"}},
			{"ÖZTÜRK", []string{"ayse@example.com"}},
			{"Ayşe", []string{"ayse@example.com"}},
			{"zoë åberg", []string{"zoe@example.com"}},
			{"ZOE@EXAMPLE", []string{"zoe@example.com"}},
			{"100%", []string{"pct@example.com"}},
			{"n_g", []string{"pct@example.com"}},
			{"0%_", nil},
			{"nobody", nil},
		} {
			got, err := customers.Search(ctx, d, tc.q, 10)
			if err != nil {
				t.Fatal(err)
			}
			var emails []string
			for _, c := range got {
				emails = append(emails, c.Email)
			}
			if len(emails) != len(tc.want) || (len(emails) > 0 && emails[0] != tc.want[0]) {
				t.Errorf("Search(%q) = %v, want %v", tc.q, emails, tc.want)
			}
		}
	})
}
