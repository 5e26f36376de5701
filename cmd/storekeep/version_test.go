package main

import (
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

func TestVersionSaysWhatWasBuilt(t *testing.T) {
	out, err := execute(t, context.Background(), "version", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Version, Commit, Date, Go, OS, Arch string }
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("version --json is not JSON: %v\n%s", err, out)
	}
	if v.Version == "" || v.Go != runtime.Version() || v.OS != runtime.GOOS || v.Arch != runtime.GOARCH {
		t.Errorf("version --json = %+v", v)
	}
	out, err = execute(t, context.Background(), "version")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"storekeep ", "commit:", "date:", "go:       " + runtime.Version(), "platform: " + runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(out, want) {
			t.Errorf("version lacks %q:\n%s", want, out)
		}
	}
}
