package privacy

// backupsPart declares what backups keep (issue 18, docs/backups.md): the
// erasure ledger, which lets a restore erase again everyone erased since
// the backup was taken, and the backups themselves, a store of copies of
// everything the database holds (Stores), with their retention.
var backupsPart = Inventory{
	Purposes: []Purpose{
		{ID: "backups", Name: "Backups and restoring them",
			Description: "keeping copies of our database so the service can be restored after a failure, and a record of erasures made of keyed fingerprints only, so that restoring a copy never brings back data we erased",
			Basis:       LegalObligation},
	},
	Tables: []Table{
		{Name: "erasure_ledger", Description: "A record of each erasure made of keyed fingerprints only (no name, address or account number), so that a restored backup does not bring erased data back.",
			Subject: Customer, Dated: "erased_at",
			Link: Link{Unlinkable: "a row holds keyed hashes (HMAC-SHA-256) of an erased account's number and email address under a key kept outside the database, never the values: it cannot be read back, and only a restore, which holds the key, compares the hashes with the identifiers in the restored copy in order to erase them again"},
			Columns: []Column{
				{Name: "id"},
				ledgerColumn("erased_at", "when the erasure was done"),
				{Name: "kind", Note: "customer, visitor or staff"},
				ledgerColumn("subject_hash", "a keyed hash of the kind and account number"),
				ledgerColumn("email_hash", "a keyed hash of the normalised email address"),
				{Name: "key_id", Note: "which key the hashes were made with (a keyed hash of a fixed text)"},
			}},
	},
	Stores: []Store{
		{ID: "backups", Name: "Backups",
			Description: "copies of the whole database (storekeep backup for SQLite; pg_dump or WAL archiving for PostgreSQL), kept by the operator apart from the ledger's key; a restore erases again everyone erased since the copy was made",
			Retention:   BackupRetention},
	},
}

// BackupRetention is how long backups are kept: the declared default,
// which `storekeep backup --prune` enforces in the backup directory.
var BackupRetention = Retention{Days: 90, From: FromCollection,
	Why: "long enough to recover from a failure noticed late; older copies are deleted"}

// ledgerRetention outlives every backup: a restore must find the
// erasures done since any backup it may be given.
var ledgerRetention = Retention{Years: 1, From: FromCollection,
	Why: "longer than any backup is kept (90 days), so that restoring any of them erases again everyone erased since"}

func ledgerColumn(name, note string) Column {
	return Column{Name: name, Personal: true, Category: "user.privacy.erasure", Purposes: []string{"backups"},
		Retention: ledgerRetention, Erasure: LegalHold, Source: Automatically, Note: note}
}
