package runbooks

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/cutover/cutover/steps"
)

func TestShippedRunbooksUnchanged(t *testing.T) {
	if _, err := All(); err != nil {
		t.Fatal(err)
	}
	if err := Unchanged(); err != nil {
		t.Fatal(err)
	}
}

// TestUnchangedSeesAChange changes fresh parses, never the shared ones, in the places a
// careless command would: a title, a check deep in a step, a recorded position.
func TestUnchangedSeesAChange(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		change     func(*testing.T, *runbookPair)
	}{
		{"title", "Runbook.Title", func(_ *testing.T, p *runbookPair) { p.b.Title += "!" }},
		{"a step's gate", "Runbook.Steps[2].Gates", func(_ *testing.T, p *runbookPair) {
			p.b.Steps[2].Gates = p.b.Steps[2].Gates[:len(p.b.Steps[2].Gates)-1]
		}},
		{"a position", "Runbook.Steps[0].Pos.Line", func(_ *testing.T, p *runbookPair) { p.b.Steps[0].Pos.Line++ }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &runbookPair{}
			var err error
			if p.a, err = parseEmbedded("maestro/move-hub.yaml"); err != nil {
				t.Fatal(err)
			}
			if p.b, err = parseEmbedded("maestro/move-hub.yaml"); err != nil {
				t.Fatal(err)
			}
			c := comparer{seen: map[[2]unsafe.Pointer]bool{}}
			if d := c.diff(reflect.ValueOf(p.a), reflect.ValueOf(p.b), "Runbook"); d != "" {
				t.Fatalf("two parses differ before any change: %s", d)
			}
			tc.change(t, p)
			c = comparer{seen: map[[2]unsafe.Pointer]bool{}}
			d := c.diff(reflect.ValueOf(p.a), reflect.ValueOf(p.b), "Runbook")
			if !strings.HasPrefix(d, tc.want) {
				t.Errorf("difference reported at %q, want %q", d, tc.want)
			}
		})
	}
}

type runbookPair struct{ a, b *steps.Runbook }
