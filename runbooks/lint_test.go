package runbooks_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/runbooks"
)

var updateLint = flag.Bool("update-lint", false, "rewrite testdata/lint/messages.golden")

// TestLintMessagesOfCommonMistakes keeps what lint says about the mistakes authors make
// most (a mapping where a list belongs, a misspelt key, check or action, an undefined
// role or parameter, a quoted template) in testdata/lint/messages.golden: each names the
// field it is in, and a misspelling gets the nearest known word. Regenerate with
// go test ./runbooks -run TestLintMessagesOfCommonMistakes -update-lint.
func TestLintMessagesOfCommonMistakes(t *testing.T) {
	files, err := filepath.Glob("../testdata/lint/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no lint cases: %v", err)
	}
	var b strings.Builder
	for _, f := range files {
		n, _, err := runbooks.Lint([]string{f}, false)
		if n != 1 || err == nil {
			t.Errorf("%s: lint checked %d runbooks and found nothing wrong", f, n)
			continue
		}
		b.WriteString(strings.TrimPrefix(err.Error(), "../") + "\n")
	}
	const golden = "../testdata/lint/messages.golden"
	if *updateLint {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run: go test ./runbooks -run TestLintMessagesOfCommonMistakes -update-lint)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("lint messages differ from %s (-update-lint rewrites it):\n--- got\n%s--- want\n%s", golden, got, want)
	}
	for _, must := range []string{
		"roles: expected a list of roles, each with id, title and requires, found a mapping",
		`unknown key "step" (did you mean steps?)`,
		`unknown check "file_exist" (did you mean file_exists?)`,
		`unknown key "rol" (did you mean role?)`,
	} {
		if !strings.Contains(b.String(), must) {
			t.Errorf("lint does not say %q", must)
		}
	}
}
