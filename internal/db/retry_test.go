package db_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/storekeep/storekeep/internal/db"
)

func TestIsRetryable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "40P01"}, true},
		{fmt.Errorf("analytics: %w", &pgconn.PgError{Code: "40001"}), true},
		{&pgconn.PgError{Code: "23505"}, false},
		{errors.New("deadlock detected"), false},
		{nil, false},
	} {
		if got := db.IsRetryable(c.err); got != c.want {
			t.Errorf("IsRetryable(%v) = %v", c.err, got)
		}
	}
}
