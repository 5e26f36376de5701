package backup

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"

	"github.com/storekeep/storekeep/internal/db"
)

// PostgresCheck is what CheckPostgres found.
type PostgresCheck struct {
	PGDump      string // the pg_dump on PATH, "" when there is none
	DumpVersion string // its version line
	DumpMajor   int
	ServerMajor int
	// WALLevel and ArchiveMode are the server's settings for continuous
	// archiving (wal_level replica or logical, archive_mode on).
	WALLevel, ArchiveMode string
	// Problems are what must be fixed before pg_dump can back up this
	// database; Notes what is worth knowing.
	Problems, Notes []string
}

var pgDumpVersion = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// CheckPostgres checks the prerequisites of backing up the PostgreSQL
// database d with pg_dump (docs/backups.md): pg_dump on PATH, and a major
// version at least the server's (pg_dump refuses to dump a newer server),
// and reports the server's settings for continuous archiving.
func CheckPostgres(ctx context.Context, d *db.DB) (PostgresCheck, error) {
	var c PostgresCheck
	var num string
	if err := d.QueryRowContext(ctx, `SHOW server_version_num`).Scan(&num); err != nil {
		return c, fmt.Errorf("check: read the server's version: %w", err)
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return c, fmt.Errorf("check: the server's version %q is not a number", num)
	}
	c.ServerMajor = n / 10000
	_ = d.QueryRowContext(ctx, `SHOW wal_level`).Scan(&c.WALLevel)
	_ = d.QueryRowContext(ctx, `SHOW archive_mode`).Scan(&c.ArchiveMode)

	path, err := exec.LookPath("pg_dump")
	if err != nil {
		c.Problems = append(c.Problems, fmt.Sprintf("pg_dump is not on PATH: install the PostgreSQL %d client tools (Debian: apt install postgresql-client-%d)", c.ServerMajor, c.ServerMajor))
	} else {
		c.PGDump = path
		out, err := exec.CommandContext(ctx, path, "--version").Output()
		m := pgDumpVersion.FindStringSubmatch(string(out))
		switch {
		case err != nil || m == nil:
			c.Problems = append(c.Problems, fmt.Sprintf("%s --version did not say its version (%v)", path, err))
		default:
			c.DumpVersion = string(out)
			c.DumpMajor, _ = strconv.Atoi(m[1])
			if c.DumpMajor < c.ServerMajor {
				c.Problems = append(c.Problems, fmt.Sprintf("pg_dump %d is older than the server (PostgreSQL %d) and refuses to dump it: install the PostgreSQL %d client tools", c.DumpMajor, c.ServerMajor, c.ServerMajor))
			}
		}
	}
	if c.WALLevel == "minimal" || c.ArchiveMode != "on" {
		c.Notes = append(c.Notes, fmt.Sprintf("continuous archiving is off (wal_level %s, archive_mode %s): pg_dump alone restores to the time of the dump; see docs/backups.md for WAL archiving", c.WALLevel, c.ArchiveMode))
	}
	return c, nil
}
