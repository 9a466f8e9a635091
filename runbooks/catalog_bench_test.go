package runbooks

import (
	"io/fs"
	"strings"
	"testing"
)

// BenchmarkShippedRunbooks compares what a command pays to read the shipped runbooks:
// "parse" reads, parses and compiles every embedded runbook, as each command did before
// they were shared and parsed on first use; "shared" is every later read of all of them
// in the same process (the in-process commands of the tests, the wizard's runs).
//
//	go test -run '^$' -bench ShippedRunbooks -benchmem ./runbooks/
func BenchmarkShippedRunbooks(b *testing.B) {
	var paths []string
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && IsRunbookFile(p) && !strings.HasPrefix(p, "labfiles/") {
			paths = append(paths, p)
		}
		return err
	})
	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			for _, p := range paths {
				if _, err := parseEmbedded(p); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("shared", func(b *testing.B) {
		for b.Loop() {
			if all, err := All(); err != nil || len(all) != len(paths) {
				b.Fatalf("%d runbooks, %v", len(all), err)
			}
		}
	})
}
