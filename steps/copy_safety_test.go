package steps

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// restoreRunbook copies h1's hub/reg to wherever the parameter word says on h2, as a
// runbook copies a backup to its restore_dir parameter.
const restoreRunbook = `  - id: restore
    title: copy to the restore folder
    action:
      copy: {from: a, to: b, paths: [{src: hub/reg, dst: "{{ params.word }}"}]}
  - id: restore-follow
    title: copy to the restore folder, following a link there
    action:
      copy: {from: a, to: b, follow_symlinks: true, paths: [{src: hub/reg, dst: "{{ params.word }}"}]}
  - id: restore-marked
    title: copy to a restore folder recognised by a marker
    action:
      copy: {from: a, to: b, paths: [{src: hub/reg, dst: "{{ params.word }}", marker: RESTORE-HERE}]}
  - id: restore-install
    title: copy to a folder declared part of the installation
    action:
      copy: {from: a, to: b, paths: [{src: hub/reg, dst: "{{ params.word }}", expect: install}]}
`

// unchanged snapshots h2's install folder and the canaries; the returned function fails
// the test if anything there changed.
func unchanged(t *testing.T, f *fixture) func() {
	t.Helper()
	_, _, check := canaries(t, f)
	before := sortedTree(treeHashes(t, f.root))
	return func() {
		t.Helper()
		check()
		if after := sortedTree(treeHashes(t, f.root)); after != before {
			t.Errorf("a refused copy changed files:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	}
}

// TestCopyTargetsNeverEscape: restore folders that are the install folder's parent, the
// install folder, /, a system folder reached through "..", or a link to one, are refused
// before anything is written, with a message naming the path and the rule.
func TestCopyTargetsNeverEscape(t *testing.T) {
	rb := testRunbook(t, restoreRunbook)
	f := copyFixture(t)
	install := filepath.ToSlash(f.hosts["h2"].InstallDir)
	link := filepath.Join(f.root, "to-root")
	if err := os.Symlink("/", link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		step, dst, want string
	}{
		{"restore", filepath.ToSlash(f.root), "contains the install folder " + install},
		{"restore", install, "is the install folder itself"},
		{"restore", install + "/", "is the install folder itself"},
		{"restore", install + "/hub/../..", "contains the install folder"},
		{"restore", "..", "contains the install folder"},
		{"restore", "/", "/ is a system folder"},
		{"restore", "/var/tmp/../../etc", "/etc is a system folder"},
		{"restore", "/usr/", "/usr is a system folder"},
		{"restore", "/tmp", "/tmp is a system folder"},
		{"restore", filepath.ToSlash(link) + "/etc", "(which leads to /etc on the host): /etc is a system folder"},
		{"restore", filepath.ToSlash(link), "it is a symbolic link (to /)"},
		{"restore-follow", filepath.ToSlash(link), "/ is a system folder"},
	} {
		check := unchanged(t, f)
		x := f.exec(rb, tc.step, nil, map[string]string{"word": tc.dst})
		rec := runAction(t, x)
		if rec.OK || !strings.Contains(rec.Error, tc.want) || !strings.Contains(rec.Error, "h2: refusing the copy target ") {
			t.Errorf("copy to %s: %q; want a refusal naming the path and %q", tc.dst, rec.Error, tc.want)
		}
		check()
		os.RemoveAll(filepath.Join(f.root, "outside"))
	}
}

// TestCopyReplaceStopsAtUnexpectedTarget: a replace onto a folder that exists, is not
// empty and is not what the step expects stops with the reason and deletes nothing; an
// empty folder, an earlier copy of the same source, a folder holding the runbook's
// marker, and one declared part of the installation are replaced.
func TestCopyReplaceStopsAtUnexpectedTarget(t *testing.T) {
	t.Parallel()
	rb := testRunbook(t, restoreRunbook)
	for _, tc := range []struct {
		name, step string
		setup      func(dir string)
		want       string // "" when the copy goes ahead
	}{
		{"someone's folder", "restore", func(dir string) {
			write(t, dir, "notes/thesis.txt", "years of work\n")
		}, "it holds " + "%DIR%/notes, which the source"},
		{"a file where a folder goes", "restore", func(dir string) {
			write(t, filepath.Dir(dir), filepath.Base(dir), "a file\n")
		}, "it is a file and the source"},
		{"an earlier copy with one file too many", "restore", func(dir string) {
			write(t, dir, "a.properties", "a=0\n")
			write(t, dir, "sub/b.properties", "old\n")
			write(t, dir, "sub/mine.txt", "not from the source\n")
		}, "it holds %DIR%/sub/mine.txt"},
		{"a folder where the source has a file", "restore", func(dir string) {
			write(t, dir, "a.properties/x", "x\n")
		}, "it holds %DIR%/a.properties, which"},
		{"empty folder", "restore", func(dir string) { mkdir(t, dir) }, ""},
		{"earlier copy", "restore", func(dir string) {
			write(t, dir, "a.properties", "a=0\n")
			write(t, dir, "sub/b.properties", "partly copied")
		}, ""},
		{"marked folder", "restore-marked", func(dir string) {
			write(t, dir, "RESTORE-HERE", "")
			write(t, dir, "other.txt", "x")
		}, ""},
		{"declared part of the installation", "restore-install", func(dir string) { write(t, dir, "other.txt", "x") }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := copyFixture(t)
			dir := filepath.Join(f.root, "restore")
			tc.setup(dir)
			src := sortedTree(treeHashes(t, f.path("h1", "hub/reg")))
			check := unchanged(t, f)
			rec := runAction(t, f.exec(rb, tc.step, nil, map[string]string{"word": filepath.ToSlash(dir)}))
			if tc.want == "" {
				if !rec.OK {
					t.Fatalf("the copy stopped: %s", rec.Error)
				}
				if got := sortedTree(treeHashes(t, dir)); got != src {
					t.Errorf("the target is not the source's copy:\n%s", got)
				}
				return
			}
			want := strings.ReplaceAll(tc.want, "%DIR%", filepath.ToSlash(dir))
			if rec.OK || !strings.Contains(rec.Error, "h2: refusing to replace "+filepath.ToSlash(dir)+": it exists, is not empty and is not what this step expects") ||
				!strings.Contains(rec.Error, want) || !strings.Contains(rec.Error, "Nothing was changed") {
				t.Errorf("replace onto %s: %q; want a stop naming the target and %q", tc.name, rec.Error, want)
			}
			check()
		})
	}
	// Inside the install folder a fresh installation's files are expected (copyFixture's
	// h2 has some the source lacks): TestCopyReplace replaces them.
}

// TestCopyRootLinks: a link at the root of a source or target is refused unless the
// runbook says follow_symlinks, and then the copy acts on what it points to.
func TestCopyRootLinks(t *testing.T) {
	t.Parallel()
	rb := testRunbook(t, restoreRunbook+`  - id: link-source
    title: a source that is a link
    action:
      copy: {from: a, to: b, paths: [{src: hub/linked, dst: hub/linked}]}
  - id: link-source-follow
    title: a source that is a link, followed
    action:
      copy: {from: a, to: b, follow_symlinks: true, paths: [{src: hub/linked, dst: hub/linked}]}
`)
	f := copyFixture(t)
	if err := os.Symlink(f.path("h1", "hub/reg"), f.path("h1", "hub/linked")); err != nil {
		t.Fatal(err)
	}
	check := unchanged(t, f)
	rec := runAction(t, f.exec(rb, "link-source", nil, nil))
	if rec.OK || !strings.Contains(rec.Error, "refusing the copy source "+filepath.ToSlash(f.path("h1", "hub/linked"))+": it is a symbolic link (to ") ||
		!strings.Contains(rec.Error, "follow_symlinks: true") {
		t.Errorf("a source that is a link: %q", rec.Error)
	}
	check()
	rec = runAction(t, f.exec(rb, "link-source-follow", nil, nil))
	if !rec.OK || f.read("h2", "hub/linked/a.properties") != "a=1\n" {
		t.Errorf("a source that is a link, followed: %+v", rec)
	}

	// A target that is a link to a folder outside the install folder.
	real := filepath.Join(f.root, "real-restore")
	mkdir(t, real)
	tgt := filepath.Join(f.root, "restore-link")
	if err := os.Symlink(real, tgt); err != nil {
		t.Fatal(err)
	}
	rec = runAction(t, f.exec(rb, "restore", nil, map[string]string{"word": filepath.ToSlash(tgt)}))
	if rec.OK || !strings.Contains(rec.Error, "it is a symbolic link (to "+real+")") {
		t.Errorf("a target that is a link: %q", rec.Error)
	}
	rec = runAction(t, f.exec(rb, "restore-follow", nil, map[string]string{"word": filepath.ToSlash(tgt)}))
	if !rec.OK {
		t.Fatalf("a target that is a link, followed: %s", rec.Error)
	}
	if fi, err := os.Lstat(tgt); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link itself was replaced: %v", err)
	}
	if got := f.read("h2", "../real-restore/a.properties"); got != "a=1\n" {
		t.Errorf("the copy did not land where the link points: %q", got)
	}
	if !strings.Contains(strings.Join(rec.Changes, "\n"), "(at "+filepath.ToSlash(real)+")") {
		t.Errorf("the record does not say where the copy landed: %q", rec.Changes)
	}
}

// TestCopyIntoRefusesLinks: into mode writes into an existing folder; a link where it
// would write (a folder or a file of the source) is refused before anything is written.
func TestCopyIntoRefusesLinks(t *testing.T) {
	rb := testRunbook(t, copyRunbook)
	for _, at := range []string{"hub/reg/sub", "hub/reg/a.properties"} {
		f := copyFixture(t)
		canary, canaryDir, _ := canaries(t, f)
		to := canaryDir
		if strings.HasSuffix(at, ".properties") {
			to = canary
		}
		os.RemoveAll(f.path("h2", at))
		if err := os.Symlink(to, f.path("h2", at)); err != nil {
			t.Fatal(err)
		}
		check := unchanged(t, f)
		rec := runAction(t, f.exec(rb, "into", nil, nil))
		if rec.OK || !strings.Contains(rec.Error, "refusing to copy into "+filepath.ToSlash(f.path("h2", at))+": it is a symbolic link") {
			t.Errorf("into with a link at %s: %q", at, rec.Error)
		}
		check()
	}
}

func write(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	mkdir(t, filepath.Dir(p))
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
