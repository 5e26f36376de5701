// Command vectors writes docs/license-test-vectors.json, the test vectors
// of the license format, from fixed seeds: run it from the repository root
// after a change of the format's code, and commit the result.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/storekeep/storekeep/internal/licensing"
)

func main() {
	out := flag.String("out", "docs/license-test-vectors.json", "file to write")
	flag.Parse()
	b, err := licensing.Vectors()
	if err != nil {
		fmt.Fprintln(os.Stderr, "vectors:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "vectors:", err, "(run it from the repository root, or pass -out)")
		os.Exit(1)
	}
	fmt.Println("wrote", *out)
}
