package config

import (
	"bytes"
	"strings"
	"testing"
)

func TestEnvFileListsEverySettingAndReadsBack(t *testing.T) {
	set := map[string]string{
		"STOREKEEP_BASE_URL":             "https://shop.example.com",
		"STOREKEEP_PAYMENT_INSTRUCTIONS": `IBAN DE00 1234, "ref" $ORDER \ #1`,
	}
	var buf bytes.Buffer
	if err := (EnvFile{Set: set, Defaults: map[string]string{"STOREKEEP_DATA_DIR": "/var/lib/storekeep"}}).Write(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, s := range Settings() {
		if _, active := set[s.Env]; !active && !strings.Contains(text, "\n#"+s.Env+"=") {
			t.Errorf("the file lacks the commented line of %s", s.Env)
		}
	}
	if !strings.Contains(text, "\n#STOREKEEP_DATA_DIR=/var/lib/storekeep\n") || !strings.Contains(text, "\n#STOREKEEP_SMTP_PORT=587\n") {
		t.Errorf("defaults are not shown:\n%s", text)
	}
	got, err := ReadEnvFile(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(set) || got["STOREKEEP_BASE_URL"] != set["STOREKEEP_BASE_URL"] || got["STOREKEEP_PAYMENT_INSTRUCTIONS"] != set["STOREKEEP_PAYMENT_INSTRUCTIONS"] {
		t.Errorf("read back %q, wrote %q", got, set)
	}
	for _, line := range strings.Split(text, "\n") {
		if len(line) > 80 {
			t.Errorf("line longer than 80 characters: %q", line)
		}
	}
}

func TestEnvFileRefusesWhatItCannotWrite(t *testing.T) {
	for _, set := range []map[string]string{
		{"STOREKEEP_BASE_URL": "https://a.example\nSTOREKEEP_DB=/tmp/x"},
		{"STOREKEEP_NO_SUCH_SETTING": "1"},
	} {
		if err := (EnvFile{Set: set}).Write(&bytes.Buffer{}); err == nil {
			t.Errorf("wrote %q", set)
		}
	}
	if _, err := ReadEnvFile(strings.NewReader("STOREKEEP_ADDR\n")); err == nil {
		t.Error("read a line without =")
	}
}
