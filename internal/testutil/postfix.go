package testutil

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PostfixOptions configures StartPostfix.
type PostfixOptions struct {
	// Domain is the mail domain the instance takes mail for, such as
	// "shop.example".
	Domain string
	// LMTPAddr is where Storekeep's LMTP receiver listens: host:port, or a
	// Unix socket path ("/path" or "unix:/path"; the socket must be
	// writable by the postfix user or group).
	LMTPAddr string
	// Routes maps addresses at Domain to a transport: "lmtp" (LMTPAddr),
	// "pipe" (PipeCommand), or any Postfix transport such as
	// "smtp:[127.0.0.1]:2525". nil means support@ and privacy@ Domain to
	// "lmtp". With recipient_delimiter = +, "support+TOKEN@" takes the
	// route of "support@".
	Routes map[string]string
	// RefuseUnlisted makes Postfix refuse, at RCPT, addresses at Domain
	// that are not in Routes (relay_recipient_maps), as a vendor would;
	// otherwise they go to LMTP too, and Storekeep refuses them (Postfix
	// then bounces).
	RefuseUnlisted bool
	// PipeCommand is the argv of the "storekeep" pipe service (master.cf
	// argv=...), with Postfix's macros such as ${recipient}.
	PipeCommand []string
	// PipeUser runs PipeCommand; "" means nobody. Postfix refuses root.
	PipeUser string
}

// Postfix is a private Postfix instance for one test, configured as a
// vendor would: it accepts mail for Domain on SMTPAddr and hands the
// routed addresses to Storekeep over LMTP (or a pipe), everything else at
// Domain refused; mail to other domains (bounces) is discarded.
type Postfix struct {
	dir  string // config_directory
	smtp string
	log  string
}

// StartPostfix starts an instance of Debian's Postfix with its own
// configuration, queue and data directories, stopped when the test ends.
// It skips the test when Postfix is not installed or the test does not
// run as root (Postfix's master must), and fails it instead when
// Required. Instances of several tests and packages run side by side.
func StartPostfix(t testing.TB, o PostfixOptions) *Postfix {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/postfix"); err != nil || os.Geteuid() != 0 {
		why := "Debian's postfix is not installed (apt-get install postfix)"
		if err == nil {
			why = "Postfix needs root to start its master"
		}
		if Required() {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	if o.Domain == "" || o.LMTPAddr == "" {
		t.Fatal("StartPostfix: Domain and LMTPAddr are required")
	}
	if o.Routes == nil {
		o.Routes = map[string]string{"support@" + o.Domain: "lmtp", "privacy@" + o.Domain: "lmtp"}
	}
	if o.PipeUser == "" {
		o.PipeUser = "nobody"
	}
	// Postfix's commands and daemons run as the postfix user and open
	// files by absolute path: open the test's temporary directory (root's,
	// 0700) to them.
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p := &Postfix{dir: filepath.Join(base, "etc"), log: filepath.Join(base, "maillog")}
	for _, d := range []string{p.dir, filepath.Join(base, "queue"), filepath.Join(base, "data")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// data_directory belongs to the mail_owner (post-install creates the
	// queue's subdirectories itself).
	owner, err := user.Lookup("postfix")
	if err != nil {
		t.Fatalf("the postfix user: %v", err)
	}
	uid, _ := strconv.Atoi(owner.Uid)
	gid, _ := strconv.Atoi(owner.Gid)
	if err := os.Chown(filepath.Join(base, "data"), uid, gid); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	p.smtp = net.JoinHostPort("127.0.0.1", port)

	lmtp := "lmtp:inet:" + o.LMTPAddr
	if path, ok := strings.CutPrefix(o.LMTPAddr, "unix:"); ok {
		lmtp = "lmtp:unix:" + path
	} else if strings.HasPrefix(o.LMTPAddr, "/") {
		lmtp = "lmtp:unix:" + o.LMTPAddr
	}
	var transport, recipients strings.Builder
	addrs := make([]string, 0, len(o.Routes))
	for a := range o.Routes {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	for _, a := range addrs {
		r := o.Routes[a]
		switch r {
		case "lmtp":
			r = lmtp
		case "pipe":
			if len(o.PipeCommand) == 0 {
				t.Fatal("StartPostfix: a pipe route needs PipeCommand")
			}
			r = "storekeep:"
		}
		fmt.Fprintf(&transport, "%s %s\n", a, r)
		fmt.Fprintf(&recipients, "%s ok\n", a)
	}
	if !o.RefuseUnlisted {
		fmt.Fprintf(&transport, "%s %s\n", o.Domain, lmtp)
		fmt.Fprintf(&recipients, "@%s ok\n", o.Domain)
	}
	writeFile(t, filepath.Join(p.dir, "transport"), transport.String())
	writeFile(t, filepath.Join(p.dir, "recipients"), recipients.String())

	name := "postfix-" + port // syslog_name and the log's prefix: one per instance
	main := fmt.Sprintf(`# A private instance for one test (internal/testutil/postfix.go).
compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = %[2]s
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
myhostname = mx.%[3]s
mydomain = %[3]s
myorigin = $mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = %[3]s
relay_recipient_maps = texthash:%[1]s/etc/recipients
transport_maps = texthash:%[1]s/etc/transport
recipient_delimiter = +
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
# Bounces and other mail for outside addresses go nowhere.
default_transport = discard:outside mail is discarded in tests
relay_transport = discard:outside mail is discarded in tests
smtp_dns_support_level = disabled
lmtp_destination_recipient_limit = 1
# Retry soon; tests flush the queue (Flush) rather than wait.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
lmtp_connect_timeout = 5s
biff = no
smtputf8_enable = no
alias_maps =
alias_database =
local_recipient_maps =
notify_classes =
`, base, name, o.Domain)
	master := fmt.Sprintf(`# service type private unpriv chroot wakeup maxproc command
%s inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`, p.smtp)
	if len(o.PipeCommand) > 0 {
		main += "storekeep_destination_recipient_limit = 1\n"
		master += fmt.Sprintf("storekeep unix - n n - - pipe flags=R null_sender= user=%s argv=%s\n", o.PipeUser, strings.Join(o.PipeCommand, " "))
	}
	writeFile(t, filepath.Join(p.dir, "main.cf"), main)
	writeFile(t, filepath.Join(p.dir, "master.cf"), master)

	if out, err := p.command("postfix", "start"); err != nil {
		t.Fatalf("postfix start: %v\n%s\n%s", err, out, p.readLog())
	}
	t.Cleanup(func() {
		if out, err := p.command("postfix", "stop"); err != nil {
			t.Errorf("postfix stop: %v\n%s", err, out)
		}
		if t.Failed() {
			t.Logf("Postfix's log:\n%s", p.readLog())
		}
	})
	// Started when smtpd answers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.smtp, time.Second)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfix does not listen on %s: %v\n%s", p.smtp, err, p.readLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return p
}

// SMTPAddr is the host:port where the instance's smtpd listens.
func (p *Postfix) SMTPAddr() string { return p.smtp }

// ConfigDir is the instance's config_directory, for postfix -c.
func (p *Postfix) ConfigDir() string { return p.dir }

// Queue is the instance's queue, one JSON object per message (postqueue
// -j): its queue name, recipients and, for deferred mail, the reason.
func (p *Postfix) Queue(t testing.TB) []string {
	t.Helper()
	out, err := p.command("postqueue", "-j")
	if err != nil {
		t.Fatalf("postqueue -j: %v\n%s", err, out)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// Flush asks Postfix to deliver the queued mail now (postqueue -f).
func (p *Postfix) Flush(t testing.TB) {
	t.Helper()
	if out, err := p.command("postqueue", "-f"); err != nil {
		t.Fatalf("postqueue -f: %v\n%s", err, out)
	}
}

// Log is the instance's mail log so far.
func (p *Postfix) Log(t testing.TB) string {
	t.Helper()
	return p.readLog()
}

// WaitLog waits until the log has a line with every one of parts, and
// returns that line; it fails the test after timeout.
func (p *Postfix) WaitLog(t testing.TB, timeout time.Duration, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, l := range strings.Split(p.readLog(), "\n") {
			if all(l, parts) {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q after %v; the log:\n%s", parts, timeout, p.readLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitQueueEmpty waits until no message is queued; it fails the test
// after timeout, showing the queue.
func (p *Postfix) WaitQueueEmpty(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		q := p.Queue(t)
		if len(q) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue not empty after %v:\n%s\n%s", timeout, strings.Join(q, "\n"), p.readLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func all(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func (p *Postfix) readLog() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// command runs one of Postfix's commands on this instance.
func (p *Postfix) command(name string, args ...string) ([]byte, error) {
	cmd := exec.Command("/usr/sbin/"+name, append([]string{"-c", p.dir}, args...)...)
	return cmd.CombinedOutput()
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// freePort is a TCP port on 127.0.0.1 that nothing listens on now.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
