package db_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestSchemaVersion: a database goose never saw is at version 0 and the
// check leaves it so (it only reads: no history table is created); after
// Migrate it is at the highest embedded migration, the one
// EmbeddedMigrations ends with.
func TestSchemaVersion(t *testing.T) {
	files, err := db.EmbeddedMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "v.db")
			if dialect == "postgres" {
				dsn = testutil.PostgresURL(t)
			}
			ctx := context.Background()
			d, err := db.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for range 2 {
				current, latest, err := d.SchemaVersion(ctx)
				if err != nil || current != 0 || latest < int64(len(files))/2 {
					t.Fatalf("never migrated: %d, %d, %v", current, latest, err)
				}
			}
			if _, err := d.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			current, latest, err := d.SchemaVersion(ctx)
			if err != nil || current != latest {
				t.Fatalf("migrated: %d, %d, %v", current, latest, err)
			}
			if pending, err := d.Pending(ctx); err != nil || pending {
				t.Fatalf("Pending after Migrate: %v, %v", pending, err)
			}
			last := files[len(files)-1]
			if want := fmt.Sprintf("%05d", latest); last[:5] != want {
				t.Fatalf("latest %d, the last embedded file is %s", latest, last)
			}
		})
	}
}
