package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
	license "github.com/storekeep/storekeep/sdk/go"
)

// TestUpgradeTellsTheSDKWhatToInstall: the SDK asks for the newest
// release the license may install on its channel and gets it with signed
// links that download the file (its checksum and minisign signature
// check), the newer release beyond the updates window with the reason and
// the renewal address, nothing new when it runs the newest, beta releases
// only on the beta channel, a suspended license's code and no upgrade, and
// a version that is not one refused.
func TestUpgradeTellsTheSDKWhatToInstall(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s, rs := webtest.ReleaseSite(t, d)
		f := newFixture(t, s)
		l := f.issue(t, licensing.Policy{Kind: licensing.Perpetual, UpdatesMonths: 12, MaxMachines: 1})
		one := []byte("mailguard 1.1.0 for linux")
		webtest.PublishRelease(t, rs, releases.NewRelease{Product: "mailguard", Version: "1.0.0"}, map[string][]byte{"mg-1.0.0.bin": []byte("old")})
		webtest.PublishRelease(t, rs, releases.NewRelease{Product: "mailguard", Version: "1.1.0", Notes: "Faster *scoring*."},
			map[string][]byte{"mg-1.1.0-linux-amd64.bin": one})
		webtest.PublishRelease(t, rs, releases.NewRelease{Product: "mailguard", Version: "1.2.0-beta.1", Channel: releases.Beta},
			map[string][]byte{"mg-1.2.0-beta.1.bin": []byte("beta")})
		s.Clock.Set(l.UpdatesUntil.AddDate(0, 0, 1))
		webtest.PublishRelease(t, rs, releases.NewRelease{Product: "mailguard", Version: "2.0.0"}, map[string][]byte{"mg-2.0.0.bin": []byte("two")})

		srv := httptest.NewServer(s.H)
		defer srv.Close()
		kres, err := http.Get(srv.URL + "/.well-known/storekeep-license-keys.json")
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := io.ReadAll(kres.Body)
		kres.Body.Close()
		v, err := license.NewVerifierFromJSON(doc)
		if err != nil {
			t.Fatal(err)
		}
		c := license.NewClient(srv.URL, v)
		c.Now = s.Clock.Now
		ctx := context.Background()

		r, err := c.Upgrade(ctx, license.UpgradeRequest{Key: l.Key, Version: "1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		up := r.Upgrade
		if up == nil || !up.Available || up.Release == nil || up.Release.Version != "1.1.0" || up.Release.Notes != "Faster *scoring*." {
			t.Fatalf("upgrade from 1.0.0: %+v", up)
		}
		if up.Beyond == nil || up.Beyond.Version != "2.0.0" || !strings.Contains(up.Beyond.Reason, "after this license's updates ended") ||
			up.Beyond.RenewURL != webtest.BaseURL+"/products/mailguard" {
			t.Fatalf("the release beyond the updates window: %+v", up.Beyond)
		}
		if up.Release.Checksums == nil || !strings.Contains(up.Release.Checksums.Text, "mg-1.1.0-linux-amd64.bin") {
			t.Fatalf("no signed checksums: %+v", up.Release.Checksums)
		}
		file := up.Release.Files[0]
		res, err := http.Get(strings.Replace(file.URL, webtest.BaseURL, srv.URL, 1))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		sum := sha256.Sum256(got)
		if res.StatusCode != http.StatusOK || !bytes.Equal(got, one) || hex.EncodeToString(sum[:]) != file.SHA256 || file.Size != int64(len(one)) {
			t.Fatalf("the link: %d, %q, sha256 %s", res.StatusCode, got, file.SHA256)
		}
		if ok, err := rs.Signer.Verify(bytes.NewReader(got), file.Signature); err != nil || !ok {
			t.Fatalf("the signature does not verify the file: %v", err)
		}

		r, err = c.Upgrade(ctx, license.UpgradeRequest{Key: l.Key, Version: "1.1.0"})
		if err != nil || r.Upgrade.Available || r.Upgrade.Release.Version != "1.1.0" {
			t.Fatalf("running the newest: %+v, %v", r.Upgrade, err)
		}
		r, err = c.Upgrade(ctx, license.UpgradeRequest{Key: l.Key, Version: "1.1.0", Channel: "beta"})
		if err != nil || !r.Upgrade.Available || r.Upgrade.Release.Version != "1.2.0-beta.1" {
			t.Fatalf("beta channel: %+v, %v", r.Upgrade, err)
		}

		// The answer as the OpenAPI document describes it (post validates
		// request and response against it).
		if a := post(t, s, "/api/v1/releases/upgrade", map[string]any{"key": l.Key, "version": "1.0.0", "nonce": nonce()}, http.StatusOK, "VALID"); a.License == nil {
			t.Fatal("no license in the answer")
		}

		owner := f.ownerID
		if _, err := licensing.Suspend(ctx, d, owner, l.ID, "chargeback", s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		r, err = c.Upgrade(ctx, license.UpgradeRequest{Key: l.Key})
		if license.CodeOf(err) != license.CodeSuspended || r == nil || r.Upgrade != nil {
			t.Fatalf("a suspended license: %+v, %v", r, err)
		}
		post(t, s, "/api/v1/releases/upgrade", map[string]any{"key": l.Key, "version": "one", "nonce": nonce()}, http.StatusBadRequest, "BAD_REQUEST")
		post(t, s, "/api/v1/releases/upgrade", map[string]any{"key": l.Key, "channel": "nightly", "nonce": nonce()}, http.StatusBadRequest, "BAD_REQUEST")
	})
}
