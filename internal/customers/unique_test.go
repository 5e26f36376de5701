package customers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestIsUniqueViolation: ConfirmEmailChange relies on telling a duplicate
// address from other failures on both databases.
func TestIsUniqueViolation(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx, now := context.Background(), time.Now().UTC()
		insert := func() error {
			_, err := d.ExecContext(ctx, `INSERT INTO customers (email, created_at, updated_at) VALUES ('a@example.com', $1, $1)`, now)
			return err
		}
		if err := insert(); err != nil {
			t.Fatal(err)
		}
		err := insert()
		if err == nil || !isUniqueViolation(err) {
			t.Fatalf("duplicate email: %v, isUniqueViolation false", err)
		}
		_, err = d.ExecContext(ctx, `INSERT INTO customers (email) VALUES ('b@example.com')`) // NOT NULL fails
		if err == nil || isUniqueViolation(err) || isUniqueViolation(errors.New("UNIQUE")) {
			t.Fatalf("other errors taken for unique violations: %v", err)
		}
	})
}
