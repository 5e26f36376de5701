#!/bin/sh
# Builds the SQLite database of the copy benchmark (docs/benchmarks.md,
# "Copy from SQLite to PostgreSQL"): a migrated Storekeep database with
# CUSTOMERS customers and LOGROWS request-log rows, written with bulk
# INSERT ... SELECT by the sqlite3 shell, timestamps in the text Go's
# time.Time.String writes, as Storekeep's own rows are.
#
#   bench/dbcopy/build.sh STOREKEEP_BINARY FILE [CUSTOMERS [LOGROWS]]
set -eu
bin=$1 file=$2 customers=${3:-1000000} logrows=${4:-10000000}
rm -f "$file" "$file-wal" "$file-shm"
"$bin" migrate --db "$file" >/dev/null
sqlite3 "$file" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $customers)
INSERT INTO customers (id, email, name, company, address_line1, postal_code, city, country, created_at, updated_at, last_seen_at)
SELECT i, 'customer' || i || '@example.org', 'Customer ' || i, CASE WHEN i % 3 = 0 THEN 'Example GmbH' ELSE '' END,
       i || ' Example Street', printf('%05d', i % 100000), 'Sampletown', 'DE',
       strftime('%Y-%m-%d %H:%M:%S', 1700000000 + i * 60, 'unixepoch') || ' +0000 UTC',
       strftime('%Y-%m-%d %H:%M:%S', 1700000000 + i * 60, 'unixepoch') || '.5 +0000 UTC',
       CASE WHEN i % 2 = 0 THEN strftime('%Y-%m-%d %H:%M:%S', 1760000000 + i, 'unixepoch') || '.123456789 +0000 UTC' END
FROM s;
COMMIT;
BEGIN;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $logrows)
INSERT INTO request_log (id, at, route, status, browser, browser_version, device, referrer_host, network)
SELECT i, strftime('%Y-%m-%d %H:%M:%S', 1760000000 + i / 10, 'unixepoch') || '.' || printf('%06d', (i % 10) * 100000 + 17) || ' +0000 UTC',
       CASE i % 4 WHEN 0 THEN 'GET /' WHEN 1 THEN 'GET /products/{slug}' WHEN 2 THEN 'POST /checkout' ELSE 'GET /account' END,
       CASE WHEN i % 50 = 0 THEN 404 ELSE 200 END, 'Firefox', '140', 'desktop',
       CASE WHEN i % 5 = 0 THEN 'example.org' ELSE '' END, '192.0.' || (i % 256) || '.0/24'
FROM s;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
ls -l "$file"
