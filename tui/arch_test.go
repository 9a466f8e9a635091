package tui

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// charm says whether an import path belongs to the Charm stack (Bubble Tea, Bubbles,
// Huh, Lip Gloss, Glamour and their helpers).
func charm(path string) bool {
	return strings.HasPrefix(path, "charm.land/") || strings.HasPrefix(path, "github.com/charmbracelet/")
}

// TestOnlyTUIImportsCharm keeps the design's rule: nothing but the tui packages imports
// the Charm stack, and nothing that does not lead to tui links it at all (the headless
// path must not carry the renderer). cmd/cutover links it through tui only.
func TestOnlyTUIImportsCharm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	out, err := exec.Command("go", "list", "-json", "github.com/cutover/cutover/...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	type pkg struct {
		ImportPath string
		Imports    []string
		Deps       []string
	}
	const tuiPath = "github.com/cutover/cutover/tui"
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		if p.ImportPath == tuiPath || strings.HasPrefix(p.ImportPath, tuiPath+"/") {
			continue
		}
		for _, imp := range p.Imports {
			if charm(imp) {
				t.Errorf("%s imports %s: only tui may import the Charm stack", p.ImportPath, imp)
			}
		}
		viaTUI := false
		for _, d := range p.Deps {
			viaTUI = viaTUI || d == tuiPath
		}
		if viaTUI {
			continue
		}
		for _, d := range p.Deps {
			if charm(d) {
				t.Errorf("%s links %s without going through tui", p.ImportPath, d)
				break
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list found only %d packages", seen)
	}
}
