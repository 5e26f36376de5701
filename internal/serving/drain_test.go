package serving

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestServeDrainsBeforeClosing: asked to stop with a drain, the server
// calls OnDrain and goes on answering until the drain ends, then shuts
// down; without one it closes at once.
func TestServeDrainsBeforeClosing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var drained atomic.Bool
	end := make(chan time.Time)
	var asked atomic.Int64 // the drain's length, once Serve waits on it
	s := &Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }),
		Drain:   45 * time.Second,
		OnDrain: func() { drained.Store(true) },
		After:   func(d time.Duration) <-chan time.Time { asked.Store(int64(d)); return end },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	url := "http://" + ln.Addr().String() + "/"
	get := func() error {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		return nil
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
	cancel()
	// The drain has begun once OnDrain ran; requests still get answers.
	for !drained.Load() || asked.Load() == 0 {
		select {
		case err := <-done:
			t.Fatalf("Serve returned before the drain ended: %v", err)
		default:
		}
		time.Sleep(time.Millisecond) // waiting for the goroutine, not for time to pass
	}
	for range 3 {
		if err := get(); err != nil {
			t.Fatalf("during the drain: %v", err)
		}
	}
	if d := time.Duration(asked.Load()); d != 45*time.Second {
		t.Errorf("drain asked for %v", d)
	}
	close(end)
	if err := <-done; err != nil {
		t.Fatalf("Serve after the drain: %v", err)
	}
	if err := get(); err == nil {
		t.Error("answered after the drain ended and the server shut down")
	}
}
