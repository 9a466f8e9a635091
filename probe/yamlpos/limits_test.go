package yamlpos_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/yamlpos"
)

// allocated returns the bytes f allocates (runtime.MemStats.TotalAlloc): what the
// bounds are about is memory, not seconds, which a loaded machine stretches.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// billionLaughs is a file of ten lines whose aliases stand for 10^9 values.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 8; i++ {
		prev := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.Repeat(prev+", ", 9)+prev)
	}
	b.WriteString("bomb: *a8\n")
	return b.String()
}

// TestBoundsRefuseHostileFiles: each shape that makes a YAML reader spend memory or
// time far beyond the file's size is refused with the file, line and bound, having
// allocated a small, fixed amount (the unbounded parse of most of these allocates
// gigabytes).
func TestBoundsRefuseHostileFiles(t *testing.T) {
	deepBlock := func() string {
		var b strings.Builder
		for i := range yamlpos.MaxDepth + 2 {
			b.WriteString(strings.Repeat(" ", i) + "k:\n")
		}
		return b.String()
	}
	// lines repeats a line (formatted with its number) after a first one.
	lines := func(first, format string, n int) string {
		var b strings.Builder
		b.WriteString(first)
		for i := range n {
			fmt.Fprintf(&b, format, i)
		}
		return b.String()
	}
	manyKeys := lines("hosts:\n", "  h%d: {address: 10.0.0.1}\n", yamlpos.MaxEntries+1)
	manyItems := lines("steps:\n", "  - id: s%d\n    title: T\n", yamlpos.MaxEntries+1)
	for _, c := range []struct {
		name, data string
		pos, msg   string
	}{
		// The anchor of line 6 already stands for 10^6 values.
		{"alias bomb", billionLaughs(), "f.yaml:6:", "stand for more than 1000000 values once expanded"},
		{"deep flow", "a: " + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "\n", "f.yaml:1:", "nest more than 64 deep"},
		{"deep compact list", strings.Repeat("- ", 100_000) + "x\n", "f.yaml:1:", "nest more than 64 deep"},
		{"deep block", deepBlock(), "f.yaml:65:", "nest more than 64 deep"},
		{"many keys", manyKeys, fmt.Sprintf("f.yaml:%d:3", yamlpos.MaxEntries+2), "this mapping has more than 10000 entries"},
		{"many list items", manyItems, fmt.Sprintf("f.yaml:%d:3", 2*yamlpos.MaxEntries+2), "this list has more than 10000 entries"},
		{"many flow entries", "a: [" + strings.Repeat("x, ", yamlpos.MaxEntries+1) + "x]\n", "f.yaml:1:", "this list has more than 10000 entries"},
		{"many documents", strings.Repeat("---\na: 1\n", yamlpos.MaxDocuments+1), fmt.Sprintf("f.yaml:%d:1", 2*yamlpos.MaxDocuments+1), "more than 100 YAML documents"},
		{"too large", "a: " + strings.Repeat("x", yamlpos.MaxFileSize) + "\n", "f.yaml:1:", "larger than 2 MiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			n := allocated(func() {
				var v any
				err = yamlpos.Decode("f.yaml", []byte(c.data), &v)
			})
			if err == nil || !strings.HasPrefix(err.Error(), c.pos) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %s...: ...%s", err, c.pos, c.msg)
			}
			if len(yamlpos.Errors(err)) != 1 {
				t.Errorf("not a positioned error: %#v", err)
			}
			// The lexer reads every byte once (some 100 bytes allocated per byte of a file
			// of short tokens); what is refused never reaches the parser.
			if limit := uint64(64<<20) + 200*uint64(len(c.data)); n > limit {
				t.Errorf("allocated %d MiB for a %d KiB file (limit %d MiB)", n>>20, len(c.data)>>10, limit>>20)
			}
		})
	}
}

// TestReadFileStopsAtTheBound: a 100 MB file of one line (or a file that never ends)
// is refused after reading no more than the bound, naming the line where it went over.
func TestReadFileStopsAtTheBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("hosts:\n  h1: {address: ")
	if err := f.Truncate(100 << 20); err != nil { // the rest: 100 MB of one line (zeros)
		t.Fatal(err)
	}
	f.Close()
	var data []byte
	n := allocated(func() { data, err = yamlpos.ReadFile(path) })
	if err == nil || data != nil || !strings.HasPrefix(err.Error(), path+":2:") || !strings.Contains(err.Error(), "larger than 2 MiB") {
		t.Fatalf("got %d bytes, %v", len(data), err)
	}
	if n > 2*yamlpos.MaxFileSize {
		t.Errorf("allocated %d MiB to refuse it", n>>20)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := yamlpos.ReadFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("/dev/zero: %v", err)
		}
	}
	if _, err := yamlpos.ReadFile(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("a folder: %v", err)
	}
}

// TestBoundsKeepOrdinaryFiles: what sites write stays well inside the bounds: anchors
// and merges, lists of mappings, lists beside keys at the same indentation, flow
// collections, comments and block text.
func TestBoundsKeepOrdinaryFiles(t *testing.T) {
	src := `defaults: &defaults
  user: maestro
  services: {maestro: {start: "systemctl start maestro"}}
hosts:
  hub1:
    <<: *defaults
    address: 10.0.0.12
  hub2: {<<: *defaults, address: 10.0.0.13}
steps:
- id: a
  text: |
    - [x] not a key: just text
    k: v
  gates:
    - {role: a, path: [x, [y, {z: 1}]]}
- id: b
after: [1, 2]
`
	var v any
	if err := yamlpos.Decode("f.yaml", []byte(src), &v); err != nil {
		t.Fatal(err)
	}
	// A list of many mappings: each item's keys are their own mapping.
	var b strings.Builder
	b.WriteString("items:\n")
	for i := range yamlpos.MaxEntries {
		fmt.Fprintf(&b, "  - {id: s%d}\n", i)
	}
	if _, err := yamlpos.Parse("f.yaml", []byte(b.String())); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkBounds: what refusing each hostile shape costs, beside parsing a shipped
// runbook of ordinary size (go test ./probe/yamlpos -run '^$' -bench Bounds -benchmem).
// Unbounded, the YAML parser takes minutes and gigabytes on the same inputs.
func BenchmarkBounds(b *testing.B) {
	runbook, err := os.ReadFile(filepath.Join("..", "..", "runbooks", "maestro", "move-hub.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var keys strings.Builder
	keys.WriteString("hosts:\n")
	for i := range yamlpos.MaxEntries + 1 {
		fmt.Fprintf(&keys, "  h%d: {address: 10.0.0.1}\n", i)
	}
	for _, c := range []struct {
		name string
		data string
		ok   bool
	}{
		{"shipped runbook", string(runbook), true},
		{"alias bomb", billionLaughs(), false},
		{"flow nesting 100000 deep", "a: " + strings.Repeat("[", 100_000) + "\n", false},
		{"mapping of 10001 keys", keys.String(), false},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				if _, err := yamlpos.Parse("f.yaml", []byte(c.data)); (err == nil) != c.ok {
					b.Fatal(err)
				}
			}
		})
	}
}
