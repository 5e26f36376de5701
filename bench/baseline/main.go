// Command baseline is the yardstick of bench/web.sh: a bare net/http server
// that answers GET / with a fixed HTML page about the size of Storekeep's
// demo home page, with no template, database, middleware or logging (and
// GET /healthz with "ok", for bench/startup.sh).
//
// With -sizes it also serves size-matched pages: -sizes 5182,28713 answers
// GET /sized/5182 and GET /sized/28713 with the same page padded (inside an
// HTML comment) to exactly that many bytes, so that a page larger than the
// home page can be compared with a bare handler sending as many bytes.
// GET / stays the reference page of the target.
//
// With -signed-size it also answers POST /api/v1/licenses/validate, the
// yardstick of bench/license.sh: it reads the request body, and answers a
// fixed JSON body of exactly that many bytes signed as the license API
// signs (sdk/go/httpsig.SignResponse: RFC 9530 Content-Digest, Date, the
// nonce header and an RFC 9421 Ed25519 signature, with a key made at
// start), and nothing else: no parsing, no key check, no database, no
// middleware, no logging.
//
// Benchmark machines are noisy and shared, so web.sh measures this server in
// the same run as Storekeep and reports Storekeep's figures as a ratio of
// it: the ratio shows what our stack costs over the bare minimum that Go's
// HTTP server can do on the same machine at the same moment.
//
//	baseline -addr 127.0.0.1:8081 [-sizes 5182,28713] [-signed-size 306]
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/storekeep/storekeep/sdk/go/httpsig"
)

// page mirrors the demo home page: the same layout (banner, header, two
// product cards, footer) and about the same number of bytes (~1.8 kB).
const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Quillfeather</title>
<link rel="stylesheet" href="/static/style.0123456789ab.css">
<link rel="icon" href="/static/favicon.0123456789ab.svg" type="image/svg+xml">
</head>
<body>
<a class="skip-link" href="#main">Skip to main content</a>
<p class="demo-banner" role="note"><strong>Demo site.</strong> The products, prices and company shown here are made up, and nothing can be bought.</p>
<header class="site-header">
  <div class="wrap header-inner">
    <a class="brand" href="/" aria-current="page">Quillfeather</a>
    <nav aria-label="Main">
      <ul class="nav-list">
        <li><a href="/" aria-current="page">Products</a></li>
        <li><a href="/pricing">Pricing</a></li>
      </ul>
    </nav>
  </div>
</header>
<main id="main" tabindex="-1">
  <div class="wrap">
<h1>Quillfeather</h1>
<p class="lead">Software you install and run on your own servers. Choose a product to see its editions and prices.</p>
<ul class="cards">
  <li class="card">
    <h2><a href="/products/quillguard">QuillGuard Milter</a></h2>
    <p>Spam and malware filtering for Postfix, on your own server.</p>
  </li>
  <li class="card">
    <h2><a href="/products/quillguard-reports">QuillGuard Reports</a></h2>
    <p>Daily summaries of what your filter stopped.</p>
  </li>
</ul>
<p><a href="/pricing">Compare the prices of all editions</a></p>
  </div>
</main>
<footer class="site-footer">
  <div class="wrap footer-inner">
    <p>© 2026 Quillfeather</p>
    <nav aria-label="Legal">
      <ul class="nav-list">
        <li><a href="/privacy">Privacy policy</a></li>
        <li><a href="/cookies">Cookie policy</a></li>
      </ul>
    </nav>
  </div>
</footer>
</body>
</html>
`

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on (host:port)")
	sizes := flag.String("sizes", "", "comma-separated page sizes in bytes to serve at /sized/N as well (each at least the size of /)")
	signedSize := flag.Int("signed-size", 0, "answer POST /api/v1/licenses/validate with a signed JSON body of this many bytes (bench/license.sh); 0: not")
	flag.Parse()

	body := []byte(page)
	length := strconv.Itoa(len(body))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", length)
		w.Write(body)
	})
	for _, f := range strings.Split(*sizes, ",") {
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < len(body) {
			log.Fatalf("-sizes: %q is not a number of bytes of at least %d", f, len(body))
		}
		sized := padded(n)
		sizedLength := strconv.Itoa(len(sized))
		mux.HandleFunc("GET /sized/"+f, func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Length", sizedLength)
			w.Write(sized)
		})
	}
	if *signedSize > 0 {
		mux.HandleFunc("POST /api/v1/licenses/validate", signedHandler(*signedSize))
	}
	// For bench/startup.sh, which polls /healthz.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "baseline serving %d bytes at http://%s/\n", len(body), ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	// Stop cleanly on SIGTERM, as storekeep does, so that bench/startup.sh
	// can time both the same way.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		log.Fatal(err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Fatal(err)
	}
}

// padded returns the page grown to exactly n bytes (n >= len(page)) by an
// HTML comment before </body>.
func padded(n int) []byte {
	const opening, closing = "<!--", "-->\n"
	i := strings.LastIndex(page, "</body>")
	fill := n - len(page)
	if fill == 0 {
		return []byte(page)
	}
	if fill < len(opening)+len(closing) {
		return []byte(page[:i] + strings.Repeat("\n", fill) + page[i:])
	}
	filler := strings.Repeat("x", fill-len(opening)-len(closing))
	return []byte(page[:i] + opening + filler + closing + page[i:])
}

// signedHandler answers with a JSON body of n bytes, signed per request as
// the license API signs its answers.
func signedHandler(n int) http.HandlerFunc {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	const kid = "0123456789abcdef"
	const nonce = "bench-nonce-0123456789ab"
	head := `{"code":"VALID","message":"The license is valid.","nonce":"` + nonce + `","pad":"`
	if n < len(head)+2 {
		log.Fatalf("-signed-size: at least %d bytes", len(head)+2)
	}
	body := []byte(head + strings.Repeat("x", n-len(head)-2) + `"}`)
	length := strconv.Itoa(len(body))
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		now := time.Now()
		if err := httpsig.SignResponse(h, http.StatusOK, body, nonce, now.UTC().Format(http.TimeFormat), now.Unix(), kid, priv); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h.Set("Content-Length", length)
		w.Write(body)
	}
}
