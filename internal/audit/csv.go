package audit

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/csvcell"
)

// WriteCSV writes entries as CSV with a header row. Cells that a
// spreadsheet would run as a formula are prefixed with a quote.
func WriteCSV(w io.Writer, entries []Entry) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"seq", "at", "actor_type", "actor_id", "action", "subject_type", "subject_id", "detail", "source_network", "prev_hash", "hash"}); err != nil {
		return err
	}
	for _, e := range entries {
		actor := ""
		if e.ActorID != 0 {
			actor = strconv.FormatInt(e.ActorID, 10)
		}
		rec := []string{strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano), e.ActorType, actor,
			e.Action, e.SubjectType, e.SubjectID, e.Detail, e.SourceNet, e.PrevHash, e.Hash}
		for i, c := range rec {
			rec[i] = defuseFormula(c)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func defuseFormula(s string) string { return csvcell.Defuse(s) }
