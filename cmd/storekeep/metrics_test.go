package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeMetricsOnItsOwnListener: the site's address answers 404 at
// /metrics; --metrics-addr serves the metrics, only with the token.
func TestServeMetricsOnItsOwnListener(t *testing.T) {
	dir := t.TempDir()
	port, metricsPort := freeTCPPort(t), freeTCPPort(t)
	const token = "0123456789abcdef0123456789abcdef"
	t.Setenv("STOREKEEP_METRICS_TOKEN", token)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := rootCommand()
	root.SetOut(io.Discard)
	root.SetArgs([]string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metricsPort),
		"--db", filepath.Join(dir, "sk.db"), "--data-dir", dir, "--log-level", "warn"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	site, metrics := fmt.Sprintf("http://127.0.0.1:%d", port), fmt.Sprintf("http://127.0.0.1:%d", metricsPort)
	get := func(url, auth string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Wait until both listen (serve opens them before it answers).
	waitServing(t, done, 15*time.Second, "serve does not answer", answers200(site+"/healthz"))

	if code, _ := get(site+"/metrics", "Bearer "+token); code != http.StatusNotFound {
		t.Errorf("public /metrics: %d, want 404", code)
	}
	if code, _ := get(metrics+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("metrics without the token: %d, want 401", code)
	}
	if code, _ := get(metrics+"/metrics", "Bearer "+strings.Repeat("x", len(token))); code != http.StatusUnauthorized {
		t.Errorf("metrics with a wrong token: %d, want 401", code)
	}
	code, body := get(metrics+"/metrics", "Bearer "+token)
	if code != http.StatusOK || !strings.Contains(body, "storekeep_build_info") || !strings.Contains(body, `route="GET /healthz"`) {
		t.Errorf("metrics with the token: %d\n%.300s", code, body)
	}
	if code, _ := get(metrics+"/", "Bearer "+token); code != http.StatusNotFound {
		t.Errorf("metrics listener serves the site: %d", code)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve did not shut down cleanly: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop within 15s")
	}
}

func TestMetricsHandlerWithoutToken(t *testing.T) {
	h := metricsHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "m 1\n") }), "")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || rec.Body.String() != "m 1\n" {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
}

func TestMetricsSettingsSayWhatToDo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sk.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--metrics-addr", ":9090"}, "set --metrics-token"},
		{[]string{"--metrics-addr", "192.0.2.7:9090"}, "set --metrics-token"},
		{[]string{"--metrics-addr", "9090"}, "not host:port"},
		{[]string{"--metrics-addr", "127.0.0.1:8080"}, "the site's address"},
		{[]string{"--metrics-token", "0123456789abcdef0123"}, "--metrics-addr is empty"},
		{[]string{"--metrics-addr", ":9090", "--metrics-token", "short"}, "shorter than 16"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := execute(t, context.Background(), append([]string{"config", "--db", db}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	out, err := execute(t, context.Background(), "config", "--db", db, "--metrics-addr", "0.0.0.0:9090", "--metrics-token", "0123456789abcdef0123")
	if err != nil || !strings.Contains(out, "--metrics-token") || strings.Contains(out, "0123456789abcdef0123") {
		t.Fatalf("config with a metrics token: %v\n%s", err, out)
	}
}
