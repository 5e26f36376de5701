package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storekeep/storekeep/internal/config"
)

// healthcheckCommand asks a running instance's /healthz, for container
// health checks in an image without a shell or curl (the Dockerfile's
// HEALTHCHECK). Without a URL it asks the instance this configuration
// describes, on this machine: the listener of --addr, with the scheme and
// host name of the site, so a certificate is checked as a browser would.
func healthcheckCommand() *cobra.Command {
	var cfg config.Config
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "healthcheck [URL]",
		Short: "Exit 0 when the running site's /healthz answers ok, 1 otherwise (for container health checks)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			target, dial := "", ""
			if len(args) == 1 {
				u, err := url.Parse(args[0])
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return usageError{err: fmt.Errorf("%q is not an http(s) URL: give e.g. http://127.0.0.1:8080/healthz, or nothing to ask the configured address", args[0])}
				}
				target = args[0]
			} else {
				if err := cfg.Validate(); err != nil {
					return usageError{err: err}
				}
				var err error
				if target, dial, err = localHealthURL(&cfg); err != nil {
					return usageError{err: err}
				}
			}
			ctx, cancel := context.WithTimeout(c.Context(), timeout)
			defer cancel()
			if err := checkHealth(ctx, target, dial); err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), "ok")
			return nil
		},
	}
	cfg.BindGroups(c.Flags(), config.Log)
	c.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the answer")
	return c
}

// localHealthURL is the /healthz URL of the site cfg serves and the local
// address to connect to for it.
func localHealthURL(cfg *config.Config) (target, dial string, err error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return "", "", err
	}
	if host == "" || host == "0.0.0.0" {
		host = "127.0.0.1"
	} else if host == "::" {
		host = "::1"
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return "", "", err
	}
	scheme := "http"
	if cfg.TLSEnabled() {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(base.Hostname(), port), Path: "/healthz"}
	return u.String(), net.JoinHostPort(host, port), nil
}

// checkHealth GETs target, connecting to dial instead of the URL's host
// when dial is set, and wants 200 "ok".
func checkHealth(ctx context.Context, target, dial string) error {
	tr := &http.Transport{Proxy: nil}
	if dial != "" {
		var d net.Dialer
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, dial)
		}
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		return errors.New("unhealthy: " + target + " answered " + resp.Status + ": " + strings.TrimSpace(string(body)))
	}
	return nil
}
