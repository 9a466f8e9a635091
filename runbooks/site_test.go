package runbooks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
)

// writeRunbook writes a minimal runbook with id at dir/id.yaml.
func writeRunbook(t *testing.T, dir, id, title string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(id)+".yaml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	body := "id: " + id + "\ntitle: " + title + "\nsystem: Site\nsource: the site's notes\nsteps:\n  - id: s\n    title: S\n    manual: true\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func noConfig() (string, error) { return "", os.ErrNotExist }

// TestSearchPathOrder: --runbooks first, then CUTOVER_RUNBOOKS (a path list), then
// ./runbooks and the configuration folder; a folder named twice is read once.
func TestSearchPathOrder(t *testing.T) {
	env := map[string]string{"CUTOVER_RUNBOOKS": "/env/a" + string(os.PathListSeparator) + "/flag/one"}
	dirs := runbooks.SearchPath(runbooks.SearchPathOptions{
		Dirs:      []string{"/flag/one"},
		Getenv:    func(k string) string { return env[k] },
		ConfigDir: func() (string, error) { return "/home/op/.config", nil },
	})
	var got []string
	for _, d := range dirs {
		got = append(got, d.From+"="+d.Path)
	}
	want := []string{"--runbooks=/flag/one", "CUTOVER_RUNBOOKS=/env/a", "./runbooks=runbooks", "config folder=/home/op/.config/cutover/runbooks"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("search path:\n got %v\nwant %v", got, want)
	}
}

// TestSiteRunbooks: a site folder's runbooks join the shipped ones with their origin; a
// site runbook with a shipped id is refused naming its file and line, or used with a
// warning when shadowing is allowed; a folder the operator named must exist.
func TestSiteRunbooks(t *testing.T) {
	site := t.TempDir()
	mine := writeRunbook(t, site, "postfix/move-queue", "Move the queue")
	opts := runbooks.LoadOptions{SearchPathOptions: runbooks.SearchPathOptions{
		Dirs: []string{site}, Getenv: func(string) string { return "" }, ConfigDir: noConfig,
	}}
	c, err := runbooks.Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	shipped, _ := runbooks.All()
	if len(c.Entries) != len(shipped)+1 {
		t.Fatalf("%d runbooks, want %d", len(c.Entries), len(shipped)+1)
	}
	e := c.Entry("postfix/move-queue")
	if e == nil || e.Origin != site || e.From != "--runbooks" || entryRunbook(t, e).Origin != site || entryRunbook(t, e).File != mine {
		t.Fatalf("site entry: %+v", e)
	}
	if c.Entry("maestro/move-hub").Origin != runbooks.Shipped {
		t.Error("a shipped runbook's origin is not shipped")
	}
	if rb, err := c.Get("postfix/move-queue"); err != nil || rb.ID != "postfix/move-queue" {
		t.Errorf("Get = %v, %v", rb, err)
	}

	shadow := writeRunbook(t, site, "maestro/move-hub", "Our own Hub move")
	_, err = runbooks.Load(opts)
	if err == nil || !strings.Contains(err.Error(), shadow+":1:1: runbook id maestro/move-hub is a shipped runbook's") ||
		!strings.Contains(err.Error(), "--allow-shadow") {
		t.Errorf("a shadowing runbook: %v", err)
	}
	opts.AllowShadow = true
	c, err = runbooks.Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	if e := c.Entry("maestro/move-hub"); e == nil || !e.Shadows || entryRunbook(t, e).Title != "Our own Hub move" ||
		len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "shadows the shipped one") {
		t.Errorf("allowed shadow: %+v, warnings %q", e, c.Warnings)
	}

	// The shipped runbook's own source file is that runbook, not a shadow.
	checkout := t.TempDir()
	data, _ := os.ReadFile("maestro/move-hub.yaml")
	os.MkdirAll(filepath.Join(checkout, "maestro"), 0o755)
	os.WriteFile(filepath.Join(checkout, "maestro", "move-hub.yaml"), data, 0o644)
	c, err = runbooks.Load(runbooks.LoadOptions{SearchPathOptions: runbooks.SearchPathOptions{
		Dirs: []string{checkout}, Getenv: func(string) string { return "" }, ConfigDir: noConfig}})
	if err != nil || c.Entry("maestro/move-hub").Origin != runbooks.Shipped {
		t.Errorf("a copy of the shipped file: %v", err)
	}

	// A misplaced file, and a named folder that does not exist.
	other := t.TempDir()
	p := writeRunbook(t, other, "postfix/relay", "Relay")
	os.Rename(p, filepath.Join(other, "relay.yaml"))
	_, err = runbooks.Load(runbooks.LoadOptions{SearchPathOptions: runbooks.SearchPathOptions{
		Dirs: []string{other, filepath.Join(other, "missing")}, Getenv: func(string) string { return "" }, ConfigDir: noConfig}})
	if err == nil || !strings.Contains(err.Error(), "relay.yaml:1:1: id \"postfix/relay\" does not match") ||
		!strings.Contains(err.Error(), "missing (--runbooks)") {
		t.Errorf("misplaced file and missing folder: %v", err)
	}
}

// TestSiteFoldersShadowEachOther: the same id in two site folders is refused, naming
// both; allowed, the folder earlier on the search path wins.
func TestSiteFoldersShadowEachOther(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	pa := writeRunbook(t, a, "site/x", "From A")
	pb := writeRunbook(t, b, "site/x", "From B")
	opts := runbooks.LoadOptions{SearchPathOptions: runbooks.SearchPathOptions{
		Dirs: []string{a}, Getenv: func(string) string { return b }, ConfigDir: noConfig}}
	_, err := runbooks.Load(opts)
	if err == nil || !strings.Contains(err.Error(), pa+":1:1: runbook id site/x is also defined in "+pb+" (CUTOVER_RUNBOOKS)") {
		t.Errorf("two folders: %v", err)
	}
	opts.AllowShadow = true
	c, err := runbooks.Load(opts)
	if err != nil || entryRunbook(t, c.Entry("site/x")).Title != "From A" || len(c.Warnings) != 1 {
		t.Errorf("allowed: %v %+v", err, c.Warnings)
	}
}

// entryRunbook is the runbook of a catalogue entry, which must load.
func entryRunbook(t *testing.T, e *runbooks.Entry) *steps.Runbook {
	t.Helper()
	rb, err := e.Runbook()
	if err != nil {
		t.Fatal(err)
	}
	return rb
}
