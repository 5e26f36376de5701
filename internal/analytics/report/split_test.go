package report

import (
	"testing"
	"time"
)

func TestSplitReadsWholeMonthsAndTheDaysAtEitherEnd(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	none := [2]string{}
	for _, c := range []struct {
		from, to           string
		head, months, tail [2]string
	}{
		{"2026-05-07", "2026-05-07", [2]string{"2026-05-07", "2026-05-07"}, none, none},
		{"2026-05-01", "2026-05-07", [2]string{"2026-05-01", "2026-05-07"}, none, none},
		{"2026-04-08", "2026-05-07", [2]string{"2026-04-08", "2026-05-07"}, none, none},
		{"2026-04-01", "2026-04-30", none, [2]string{"2026-04", "2026-04"}, none},
		{"2026-04-01", "2026-05-07", none, [2]string{"2026-04", "2026-04"}, [2]string{"2026-05-01", "2026-05-07"}},
		{"2026-03-31", "2026-04-30", [2]string{"2026-03-31", "2026-03-31"}, [2]string{"2026-04", "2026-04"}, none},
		{"2025-05-08", "2026-05-07", [2]string{"2025-05-08", "2025-05-31"}, [2]string{"2025-06", "2026-04"}, [2]string{"2026-05-01", "2026-05-07"}},
		{"2024-02-01", "2024-02-29", none, [2]string{"2024-02", "2024-02"}, none},
		{"2024-02-01", "2024-02-28", [2]string{"2024-02-01", "2024-02-28"}, none, none},
		{"2025-12-31", "2026-01-01", [2]string{"2025-12-31", "2026-01-01"}, none, none},
		{"2025-01-15", "2025-02-14", [2]string{"2025-01-15", "2025-02-14"}, none, none},
	} {
		got := split(Range{From: day(c.from), To: day(c.to)})
		if want := (parts{Head: c.head, Months: c.months, Tail: c.tail}); got != want {
			t.Errorf("split(%s..%s) = %+v, want %+v", c.from, c.to, got, want)
		}
	}
}
