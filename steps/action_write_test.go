package steps

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
)

const writeSteps = `  - id: write
    title: write a configuration file
    action:
      write:
        role: a
        file: conf.d/site.conf
        content: |
          # written for {{ params.word }}
          listen 80;
          name "{{ params.word }}"; $host ` + "`x`" + ` $(touch canary) '{{ params.password }}'
  - id: tested
    title: write and test it
    action:
      write:
        role: a
        file: conf.d/site.conf
        mode: "0600"
        content: "server {{ params.word }}\n"
        test: {command: "grep -q '^server hello$' conf.d/site.conf && echo accepted || { echo refused >&2; exit 1; }"}
  - id: no-folder
    title: the folder is missing
    action:
      write: {role: a, file: missing/site.conf, content: "x\n"}
  - id: folder
    title: the target is a folder
    action:
      write: {role: a, file: conf.d, content: "x\n"}
`

func TestWriteAction(t *testing.T) {
	rb := testRunbook(t, writeSteps)
	f := newFixture(t)
	var mu sync.Mutex
	var ops []string
	f.wrap = func(_ string, tr probe.Transport) probe.Transport { return newOpTransport(tr, &mu, &ops) }
	const orig = "# the site's own\nlisten 8080;\n"
	p := f.write("h1", "conf.d/site.conf", orig)
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	f.chtime("h1", "conf.d/site.conf", old)

	params := map[string]string{"password": "s3cret"}
	x := f.exec(rb, "write", nil, params)
	planned, err := x.step.Action.Spec.plan(x)
	if err != nil {
		t.Fatal(err)
	}
	// The plan shows every line that will be written, secrets hidden.
	wantPlan := []string{"+ # written for hello", "+ listen 80;", "+ name \"hello\"; $host `x` $(touch canary) [secret]"}
	if !slices.Equal(planned.Changes, wantPlan) || !strings.Contains(planned.Summary, "write conf.d/site.conf on h1 (3 lines") {
		t.Errorf("plan: %q %q, want changes %q", planned.Summary, planned.Changes, wantPlan)
	}
	rec := runAction(t, x)
	if !rec.OK {
		t.Fatalf("write failed: %+v", rec)
	}
	// The content is data: written as rendered, no shell has seen it.
	want := "# written for hello\nlisten 80;\nname \"hello\"; $host `x` $(touch canary) 's3cret'\n"
	if got := f.read("h1", "conf.d/site.conf"); got != want {
		t.Errorf("file is\n%q\nwant\n%q", got, want)
	}
	if _, err := os.Stat(f.path("h1", "canary")); !os.IsNotExist(err) {
		t.Error("writing the file ran a command substitution of its content")
	}
	backup := "conf.d/site.conf.cutover-RUNID"
	if got := f.read("h1", backup); got != orig {
		t.Errorf("the original kept beside the file is %q", got)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("the replaced file lost its mode: %v", fi.Mode())
	}
	mu.Lock()
	gotOps := slices.Clone(ops)
	mu.Unlock()
	if slices.Contains(gotOps, "create site.conf") || !slices.Contains(gotOps, "create site.conf.cutover-tmp-R") || !slices.Contains(gotOps, "rename site.conf.cutover-tmp-R site.conf") {
		t.Errorf("file operations %q: want a temporary file renamed over site.conf", gotOps)
	}
	for _, c := range []string{"line 1: # the site's own -> # written for hello", "line 2: listen 8080; -> listen 80;", "original kept as " + f.path("h1", backup)} {
		if !slices.Contains(rec.Changes, c) {
			t.Errorf("changes %q lack %q", rec.Changes, c)
		}
	}
	for _, c := range rec.Changes {
		if strings.Contains(c, "s3cret") {
			t.Errorf("a secret reached the record: %q", c)
		}
	}
	// Rollback puts the kept original back.
	if want := []Undo{{Kind: UndoFile, Role: "a", Host: "h1", Path: p, Kept: f.path("h1", backup)}}; !slices.Equal(rec.Undo, want) {
		t.Errorf("undo %+v, want %+v", rec.Undo, want)
	}
	// Again: nothing to write, and the first original stays.
	rec = runAction(t, f.exec(rb, "write", nil, params))
	if !rec.OK || !slices.Equal(rec.Changes, []string{"already as wanted: nothing written"}) || rec.Undo != nil {
		t.Errorf("second run: %+v", rec)
	}

	t.Run("new file", func(t *testing.T) {
		f := newFixture(t)
		f.write("h1", "conf.d/.keep", "")
		rec := runAction(t, f.exec(rb, "tested", nil, nil))
		if !rec.OK || f.read("h1", "conf.d/site.conf") != "server hello\n" {
			t.Fatalf("new file: %+v", rec)
		}
		if fi, _ := os.Stat(f.path("h1", "conf.d/site.conf")); fi.Mode().Perm() != 0o600 {
			t.Errorf("new file mode %v, want 0600", fi.Mode())
		}
		if !slices.Contains(rec.Changes, "new file, mode 0600") || !slices.Contains(rec.Output, "h1: accepted") {
			t.Errorf("record %+v", rec)
		}
		// Rollback keeps a file that did not exist aside.
		if want := []Undo{{Kind: UndoAbsent, Role: "a", Host: "h1", Path: f.path("h1", "conf.d/site.conf")}}; !slices.Equal(rec.Undo, want) {
			t.Errorf("undo %+v, want %+v", rec.Undo, want)
		}
	})
	t.Run("refused by its test, the previous file is back", func(t *testing.T) {
		f := newFixture(t)
		f.write("h1", "conf.d/site.conf", orig)
		rec := runAction(t, f.exec(rb, "tested", nil, map[string]string{"word": "bad"}))
		if rec.OK || !strings.Contains(rec.Error, "the test refused the file") || !strings.Contains(rec.Error, "the previous file is back in place") {
			t.Errorf("refused write: %+v", rec)
		}
		if !slices.Contains(rec.Output, "h1: refused") {
			t.Errorf("the test's words are not in the record: %q", rec.Output)
		}
		if got := f.read("h1", "conf.d/site.conf"); got != orig {
			t.Errorf("after a refusal the file is %q, want the previous one", got)
		}
		if rec.Undo != nil {
			t.Errorf("a refused write, already put back, has undos: %+v", rec.Undo)
		}
	})
	t.Run("refused by its test, a new file is removed", func(t *testing.T) {
		f := newFixture(t)
		f.write("h1", "conf.d/.keep", "")
		rec := runAction(t, f.exec(rb, "tested", nil, map[string]string{"word": "bad"}))
		if rec.OK || !strings.Contains(rec.Error, "the new file is removed") {
			t.Errorf("refused write: %+v", rec)
		}
		if _, err := os.Stat(f.path("h1", "conf.d/site.conf")); !os.IsNotExist(err) {
			t.Error("a refused new file was left in place")
		}
	})
	t.Run("refused, and the new file cannot be removed: its undo stays", func(t *testing.T) {
		f := newFixture(t)
		f.write("h1", "conf.d/.keep", "")
		f.wrap = func(_ string, tr probe.Transport) probe.Transport { return noRemove{tr.(writer)} }
		rec := runAction(t, f.exec(rb, "tested", nil, map[string]string{"word": "bad"}))
		if rec.OK || !strings.Contains(rec.Error, "putting the previous file back failed") {
			t.Errorf("refused write: %+v", rec)
		}
		if want := []Undo{{Kind: UndoAbsent, Role: "a", Host: "h1", Path: f.path("h1", "conf.d/site.conf")}}; !slices.Equal(rec.Undo, want) {
			t.Errorf("undo %+v, want %+v: the file is still there for rollback to keep aside", rec.Undo, want)
		}
	})
	t.Run("missing folder", func(t *testing.T) {
		f := newFixture(t)
		rec := runAction(t, f.exec(rb, "no-folder", nil, nil))
		if rec.OK || !strings.Contains(rec.Error, "its folder "+f.path("h1", "missing")) {
			t.Errorf("write into a missing folder: %+v", rec)
		}
		if _, err := os.Stat(f.path("h1", "missing")); !os.IsNotExist(err) {
			t.Error("the missing folder was created")
		}
	})
	t.Run("folder", func(t *testing.T) {
		f := newFixture(t)
		f.write("h1", "conf.d/keep", "kept\n")
		rec := runAction(t, f.exec(rb, "folder", nil, nil))
		if rec.OK || !strings.Contains(rec.Error, "is not a regular file") || f.read("h1", "conf.d/keep") != "kept\n" {
			t.Errorf("write over a folder: %+v", rec)
		}
	})
}

func TestWriteActionLoadErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"write: {role: a, file: x.conf}", "content is required"},
		{"write: {role: a, content: x}", "file is required"},
		{"write: {role: a, file: x, content: y, mode: rw-r--r--}", `mode "rw-r--r--": give permissions in octal`},
		{"write: {role: a, file: x, content: y, test: {timeout: 1m}}", "test.command is required"},
	} {
		_, err := Parse("unit.yaml", []byte(`id: test/unit
title: t
system: s
source: s
roles: [{id: a, title: a}]
steps:
  - id: w
    title: w
    action:
      `+tc.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// noRemove refuses to remove files, as a host whose folder became read-only would.
type noRemove struct{ writer }

func (noRemove) Remove(context.Context, string) error { return errors.New("permission denied") }
