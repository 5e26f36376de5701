package privacy

// dbCopyPart declares the state `storekeep db copy` keeps in the database
// it copies into (internal/dbcopy): which installation it copies and how
// far each table has come. Table names and counters only; source_path is
// the operator's file path, not anyone's data.
var dbCopyPart = Inventory{
	Tables: []Table{
		{Name: "db_copy", Description: "The copy from a SQLite database into this one: the source's fingerprint and file, when it started, finished and was verified.",
			Columns: plain("id", "source", "source_path", "version", "started_at", "copied_at", "verified_at")},
		{Name: "db_copy_tables", Description: "How far the copy has come in each table, so an interrupted copy continues where it stopped.",
			Columns: plain("name", "last_key", "rows", "done", "updated_at")},
	},
}
