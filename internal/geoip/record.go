package geoip

import (
	"strings"

	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// record is the part of a database record that Country reads; the reader
// skips every other field (names, subdivisions, location...) without
// decoding it.
//
// The providers do not agree on the shape: MaxMind and DB-IP put a map under
// "country" and "registered_country" with the code in "iso_code"; IPinfo's
// free country database puts the code itself under "country", and IPinfo Lite
// puts it under "country_code" with the country's name under "country". The
// code type reads either shape, so one struct serves all of them.
//
// The tags name the fields for the reflection decoder; UnmarshalMaxMindDBCursor
// reads the same fields without reflection, which measured 30-40% faster per
// lookup with GeoLite2-City-shaped records. TestDecodersAgree holds the two to
// the same answers.
type record struct {
	Country           code `maxminddb:"country"`
	RegisteredCountry code `maxminddb:"registered_country"`
	CountryCode       code `maxminddb:"country_code"`
}

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler: it reads
// the three fields of a record map and skips the others.
func (r *record) UnmarshalMaxMindDBCursor(cur mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	m, err := cur.Map()
	if err != nil {
		return mmdbdata.Cursor{}, mmdbdata.NormalizeUnmarshalError[record](err)
	}
	var next mmdbdata.Cursor
	for {
		key, value, ok := m.Next(next)
		if !ok {
			break
		}
		switch string(key) {
		case "country":
			next, err = r.Country.UnmarshalMaxMindDBCursor(value)
		case "registered_country":
			next, err = r.RegisteredCountry.UnmarshalMaxMindDBCursor(value)
		case "country_code":
			next, err = r.CountryCode.UnmarshalMaxMindDBCursor(value)
		default:
			next, err = value.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return m.End()
}

// code returns the record's country code, upper case, or "".
func (r *record) code() string {
	if c := alpha2(string(r.Country)); c != "" {
		return c
	}
	if c := alpha2(string(r.RegisteredCountry)); c != "" {
		return c
	}
	return alpha2(string(r.CountryCode))
}

// code is a country code as a record holds it: a map with an "iso_code"
// string, or the string itself. Anything else reads as no code, not as an
// error, so one odd record costs one lookup its country and nothing more.
type code string

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler. The
// strings it reads come from the reader's string cache, so decoding the same
// codes again does not allocate.
func (c *code) UnmarshalMaxMindDBCursor(cur mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	kind, err := cur.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	switch kind {
	case mmdbdata.KindString:
		s, next, err := cur.ReadString()
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		*c = code(s)
		return next, nil
	case mmdbdata.KindMap:
		m, err := cur.Map()
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		var next mmdbdata.Cursor
		for {
			key, value, ok := m.Next(next)
			if !ok {
				break
			}
			if string(key) == "iso_code" && isString(value) {
				var s string
				s, next, err = value.ReadString()
				*c = code(s)
			} else {
				next, err = value.Skip()
			}
			if err != nil {
				return mmdbdata.Cursor{}, err
			}
		}
		return m.End()
	default:
		return cur.Skip()
	}
}

func isString(cur mmdbdata.Cursor) bool {
	kind, err := cur.Kind()
	return err == nil && kind == mmdbdata.KindString
}

// alpha2 returns s as an ISO 3166-1 alpha-2 code in upper case, or "" when
// s is not two ASCII letters or is "ZZ", the user-assigned code some
// providers use for an unknown country.
func alpha2(s string) string {
	if len(s) != 2 || !letter(s[0]) || !letter(s[1]) {
		return ""
	}
	if s[0] >= 'a' || s[1] >= 'a' {
		s = strings.ToUpper(s) // no database seen uses lower case; allocating here is fine
	}
	if s == "ZZ" {
		return ""
	}
	return s
}

func letter(b byte) bool {
	return 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z'
}
