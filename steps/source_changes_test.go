package steps

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
)

// changingTransport changes a source file whose name contains match as soon as it is
// opened for copying: a log still being written, a database file still in use.
type changingTransport struct {
	probe.Transport
	match  string
	change func(p string)
}

func (c changingTransport) Open(ctx context.Context, p string) (probe.File, error) {
	f, err := c.Transport.Open(ctx, p)
	if err == nil && strings.Contains(p, c.match) {
		c.change(p) // the copy names sources by absolute path
	}
	return f, err
}

// TestCopyFailsWhenTheSourceChanges: a source file that grows, or is rewritten with the
// same size, while it is copied fails the copy with its name; the prefix that was read
// must not be reported verified.
func TestCopyFailsWhenTheSourceChanges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, p string)
	}{
		{"grows", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("b=3\n"); err != nil {
				t.Fatal(err)
			}
		}},
		{"is rewritten", func(t *testing.T, p string) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			copy(b, "B")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			later := time.Now().Add(time.Minute)
			if err := os.Chtimes(p, later, later); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		for _, mode := range []string{"replace", "into"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				f := copyFixture(t)
				f.wrap = func(host string, tr probe.Transport) probe.Transport {
					if host != "h1" {
						return tr
					}
					return changingTransport{Transport: tr, match: "b.properties", change: func(p string) { tc.change(t, p) }}
				}
				rec := runAction(t, f.exec(testRunbook(t, copyRunbook), mode, nil, nil))
				if rec.OK {
					t.Fatalf("a source that changed during the copy was reported verified: %+v", rec)
				}
				if !strings.Contains(rec.Error, "b.properties changed while it was copied") {
					t.Errorf("error %q does not name the file that changed", rec.Error)
				}
				if mode == "replace" && f.read("h2", "hub/reg/a.properties") != "a=0\n" {
					t.Error("the target's folder was replaced by a copy that failed")
				}
			})
		}
	}
}

// TestFileAgeInTheFuture: a stamp dated ahead of the host's clock (written while the
// clock was ahead) cannot prove the copy is recent: it fails beyond the clock slack.
func TestFileAgeInTheFuture(t *testing.T) {
	f := newFixture(t)
	rb := testRunbook(t, `  - id: s
    title: age
    gates:
      - file_age: {role: b, path: sync/last-sync, max_age: 10m, contains: ['(?i)completed']}
`)
	f.write("h2", "sync/last-sync", "sync completed\n")
	x := f.exec(rb, "s", nil, nil)
	f.chtime("h2", "sync/last-sync", time.Now().Add(2*time.Hour))
	r := evalGate(t, x, 0)
	wantStatus(t, r, Fail, "in the future")
	evidenceHas(t, r, "in the future by the host clock")

	// Within the slack (a stamp written a moment ago) it passes.
	f.chtime("h2", "sync/last-sync", time.Now().Add(300*time.Millisecond))
	wantStatus(t, evalGate(t, x, 0), Pass)
}
