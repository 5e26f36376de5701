package db

import (
	"io/fs"

	"github.com/pressly/goose/v3"
)

// ProviderFor exposes providerFor to tests: a migration set of their own,
// with its history in a table of its own.
func (d *DB) ProviderFor(src fs.FS, table string) (*goose.Provider, error) {
	return d.providerFor(src, table)
}

// CheckMigrations exposes checkMigrations to tests.
func CheckMigrations(files []string) error {
	_, err := checkMigrations(files)
	return err
}

// EmbeddedMigrations lists the embedded migration files.
func EmbeddedMigrations() ([]string, error) {
	src, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return fs.Glob(src, "*")
}

// MigrationsFS is the embedded migration set, for tests that migrate step
// by step.
func MigrationsFS() (fs.FS, error) { return fs.Sub(migrationFiles, "migrations") }
