// Command waitready measures how long a server takes from the start of its
// process to its first successful answer, then stops it cleanly.
//
//	waitready -url http://127.0.0.1:8090/healthz -- storekeep serve --db x.db --addr 127.0.0.1:8090
//
// It starts the command, polls the URL every millisecond (-poll) until it
// answers 200, sends SIGTERM and waits for the exit. It prints one line of
// key=value pairs, durations in milliseconds:
//
//	ready_ms=41.201 logged_startup_ms=38.7 stop_ms=3.012 exit=0
//
// logged_startup_ms is the "startup" attribute of the first log line with
// msg=listening that the command writes to stderr (text or JSON slog), or
// "-" when there is none. The command's stderr is copied to -log when given.
// waitready exits non-zero when the server is not ready in -timeout or does
// not exit cleanly after SIGTERM.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
)

func main() {
	target := flag.String("url", "", "URL to poll until it answers 200 (loopback only)")
	poll := flag.Duration("poll", time.Millisecond, "time between two polls")
	timeout := flag.Duration("timeout", 20*time.Second, "give up when not ready after this long")
	logPath := flag.String("log", "", "file to copy the command's stderr to")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: waitready -url URL [-poll 1ms] [-timeout 20s] [-log FILE] -- COMMAND [ARGS...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *target == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := checkLoopback(*target); err != nil {
		fmt.Fprintln(os.Stderr, "waitready:", err)
		os.Exit(2)
	}
	if err := run(*target, *poll, *timeout, *logPath, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "waitready:", err)
		os.Exit(1)
	}
}

// checkLoopback keeps the benchmark on this machine.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch u.Hostname() {
	case "127.0.0.1", "::1", "localhost":
		return nil
	}
	return fmt.Errorf("-url %s: only loopback addresses (127.0.0.1, ::1, localhost) are allowed", raw)
}

func run(target string, poll, timeout time.Duration, logPath string, args []string) error {
	var logw io.Writer = io.Discard
	if logPath != "" {
		f, err := os.Create(logPath)
		if err != nil {
			return err
		}
		defer f.Close()
		logw = f
	}

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	startup := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		found := false
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logw, line)
			if !found {
				if d, ok := listeningStartup(line); ok {
					found = true
					startup <- d
				}
			}
		}
	}()

	client := &http.Client{
		Timeout: time.Second,
		// A fresh connection per poll, as the first real visitor would have.
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() {
		<-scanned // Wait closes the pipe: read it to the end first
		exited <- cmd.Wait()
	}()

	var ready time.Duration
	deadline := start.Add(timeout)
	for {
		resp, err := client.Get(target)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ready = time.Since(start)
				break
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("%s exited before it was ready: %v", args[0], err)
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("%s not ready at %s after %s", args[0], target, timeout)
		}
		time.Sleep(poll)
	}

	stopStart := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	var exitErr error
	select {
	case exitErr = <-exited:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-exited
		return errors.New("the server did not stop within 15s of SIGTERM")
	}
	stop := time.Since(stopStart)

	logged := "-"
	select {
	case logged = <-startup:
	default:
	}
	fmt.Printf("ready_ms=%.3f logged_startup_ms=%s stop_ms=%.3f exit=%d\n",
		ms(ready), logged, ms(stop), cmd.ProcessState.ExitCode())
	if exitErr != nil {
		return fmt.Errorf("the server did not exit cleanly after SIGTERM: %v", exitErr)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// textStartup finds startup=1.234ms in a slog text line.
var textStartup = regexp.MustCompile(`(?:^|\s)startup=(\S+)`)

// listeningStartup returns the "startup" duration, in milliseconds, of a
// log line whose message is "listening", in slog's text or JSON format.
func listeningStartup(line string) (string, bool) {
	var raw string
	if strings.HasPrefix(line, "{") {
		var rec struct {
			Msg     string `json:"msg"`
			Startup any    `json:"startup"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "listening" || rec.Startup == nil {
			return "", false
		}
		switch v := rec.Startup.(type) {
		case float64: // slog's JSON handler writes durations as nanoseconds
			return fmt.Sprintf("%.3f", v/1e6), true
		case string:
			raw = v
		}
	} else {
		if !strings.Contains(line, "msg=listening") {
			return "", false
		}
		m := textStartup.FindStringSubmatch(line)
		if m == nil {
			return "", false
		}
		raw = m[1]
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("%.3f", ms(d)), true
}
