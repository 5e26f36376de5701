package dbcopy

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPlanOrdersByForeignKeys(t *testing.T) {
	tables := map[string]*table{}
	for _, n := range []string{"orders", "order_lines", "licenses", "tickets", "customers", "goose_db_version"} {
		tables[n] = &table{name: n, pk: []string{"id"}}
	}
	fks := []foreignKey{
		{name: "a", table: "order_lines", parent: "orders", columns: []string{"order_id"}},
		{name: "b", table: "order_lines", parent: "licenses", columns: []string{"renews_license_id"}, nullable: true},
		{name: "c", table: "licenses", parent: "order_lines", columns: []string{"order_line_id"}, nullable: true},
		{name: "d", table: "licenses", parent: "orders", columns: []string{"order_id"}, nullable: true},
		{name: "e", table: "tickets", parent: "tickets", columns: []string{"merged_into"}, nullable: true},
		{name: "f", table: "tickets", parent: "customers", columns: []string{"customer_id"}},
		{name: "g", table: "orders", parent: "customers", columns: []string{"customer_id"}},
	}
	order, err := plan(tables, fks)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range order {
		names = append(names, tb.name)
	}
	if got := strings.Join(names, " "); got != "customers orders tickets licenses order_lines" {
		t.Errorf("order: %s", got)
	}
	if !slices.Equal(tables["licenses"].deferred, []string{"order_line_id"}) || !slices.Equal(tables["tickets"].deferred, []string{"merged_into"}) || len(tables["order_lines"].deferred) != 0 {
		t.Errorf("deferred: licenses %v, tickets %v, order_lines %v", tables["licenses"].deferred, tables["tickets"].deferred, tables["order_lines"].deferred)
	}

	// A cycle through columns that cannot be NULL cannot be copied.
	for _, tb := range tables {
		tb.deferred = nil
	}
	fks[1].nullable, fks[2].nullable = false, false
	if _, err := plan(tables, fks); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("a cycle of NOT NULL references: %v", err)
	}
}

func TestConvert(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)
	for _, tc := range []struct {
		in   any
		k    kind
		want any
	}{
		{int64(1), kindBool, true},
		{int64(0), kindBool, false},
		{"true", kindBool, true},
		{nil, kindBool, nil},
		{int64(9007199254740993), kindInt, int64(9007199254740993)},
		{"42", kindInt, int64(42)},
		{at, kindTime, at.Truncate(time.Microsecond)},
		{"2026-03-01 10:30:00.123456789 +0100 CET", kindTime, at.Truncate(time.Microsecond)},
		{"2026-03-01 09:30:00", kindTime, time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)},
		{int64(1772357400), kindTime, time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)},
		{[]byte("Zoë"), kindText, "Zoë"},
		{"x", kindBytes, []byte("x")},
		{[]byte(nil), kindBytes, []byte{}},
		{int64(3), kindFloat, 3.0},
	} {
		got, err := convert(tc.in, tc.k)
		if err != nil {
			t.Errorf("convert(%#v, %s): %v", tc.in, tc.k, err)
			continue
		}
		if gt, ok := got.(time.Time); ok {
			if !gt.Equal(tc.want.(time.Time)) || gt.Location() != time.UTC {
				t.Errorf("convert(%#v) = %v, want %v", tc.in, gt, tc.want)
			}
			continue
		}
		if gb, ok := got.([]byte); ok {
			if string(gb) != string(tc.want.([]byte)) || gb == nil {
				t.Errorf("convert(%#v) = %#v, want %#v", tc.in, gb, tc.want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("convert(%#v, %s) = %#v, want %#v", tc.in, tc.k, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in any
		k  kind
	}{
		{int64(2), kindBool},
		{"maybe", kindBool},
		{"12a", kindInt},
		{1.5, kindInt},
		{"yesterday", kindTime},
		{"a\x00b", kindText},
		{string([]byte{0xff, 0xfe}), kindText},
	} {
		if got, err := convert(tc.in, tc.k); err == nil {
			t.Errorf("convert(%#v, %s) = %#v, want an error", tc.in, tc.k, got)
		}
	}
}

// TestChecksumTellsValuesApart: NULL from empty, one kind from another,
// and values that would run together without their lengths.
func TestChecksumTellsValuesApart(t *testing.T) {
	rows := [][]any{
		{nil, "ab"}, {"", "ab"}, {"a", "b"}, {"ab", ""}, {"ab", nil},
	}
	seen := map[[32]byte]int{}
	for i, r := range rows {
		_, h, err := rowHash(nil, r, []kind{kindText, kindText})
		if err != nil {
			t.Fatal(err)
		}
		if j, dup := seen[h]; dup {
			t.Errorf("rows %v and %v hash alike", rows[j], r)
		}
		seen[h] = i
	}
	var a, b sum
	h1, h2 := [32]byte{1}, [32]byte{2}
	a.add(h1)
	a.add(h2)
	b.add(h2)
	b.add(h1)
	if a != b {
		t.Error("the checksum depends on the order of the rows")
	}
	b.add(h1)
	if a == b {
		t.Error("a row more leaves the checksum alike")
	}
}

// FuzzParseTime: any text either fails or gives a time that formats and
// parses back to itself; Go's own format of any time parses back.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2026-12-02 16:15:06.180672726 +0000 UTC",
		"2026-12-02 16:15:06.180672726 +0000 UTC m=+0.000000001",
		"2026-06-01 12:00:00 +0200 CEST",
		"2026-12-02 16:14:54",
		"2026-12-02T16:14:54Z",
		"2026-12-02T16:14:54.5+01:00",
		"2026-12-02",
		"", "garbage", "2026-13-45 99:99",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTime(s)
		if err != nil {
			return
		}
		back, err := ParseTime(v.String())
		if err != nil || !back.Equal(v) {
			t.Fatalf("ParseTime(%q) = %v, which reads back as %v, %v", s, v, back, err)
		}
		if u := time.Unix(int64(len(s))*7919, int64(len(s))).UTC(); true {
			if back, err := ParseTime(u.String()); err != nil || !back.Equal(u) {
				t.Fatalf("Go's format of %v reads back as %v, %v", u, back, err)
			}
		}
	})
}
