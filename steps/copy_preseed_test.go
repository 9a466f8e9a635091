package steps

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const preseedRunbook = `  - id: preseed
    title: pre-seed
    action:
      preseed: {copy: window}
  - id: window
    title: the copy in the window
    action:
      copy: {from: a, to: b, preseed: true, paths: [hub/hub.ini, hub/reg]}
`

// stagingNames lists the staging copies and temporary files left in the target's hub
// folder (what a replace kept aside, NAME.cutover-RUN-replaced, is not one of them).
func stagingNames(t *testing.T, f *fixture) []string {
	t.Helper()
	entries, err := os.ReadDir(f.path("h2", "hub"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".cutover-preseed-") || strings.Contains(e.Name(), ".cutover-incoming-") || strings.Contains(e.Name(), ".cutover-tmp-") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestPreseedThenDelta(t *testing.T) {
	t.Parallel()
	f := copyFixture(t)
	rb := testRunbook(t, preseedRunbook)
	before := withoutStaging(sortedTree(treeHashes(t, f.path("h2", "hub"))))
	rec := runAction(t, f.exec(rb, "preseed", nil, nil))
	if !rec.OK {
		t.Fatalf("pre-seed failed: %+v", rec)
	}
	// The target itself is untouched; only staging names were added.
	if after := withoutStaging(sortedTree(treeHashes(t, f.path("h2", "hub")))); withoutStaging(after) != before {
		t.Errorf("the pre-seed changed the target:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if n := len(stagingNames(t, f)); n != 2 {
		t.Fatalf("pre-seed left %d staging copies, want 2: %v", n, stagingNames(t, f))
	}
	if rec.Files != 4 || !strings.Contains(strings.Join(rec.Changes, "\n"), "free space checked") {
		t.Errorf("pre-seed record: %d files; changes %q", rec.Files, rec.Changes)
	}

	// Meanwhile the live service adds, changes, removes and renames files; one change
	// keeps the size and the modification time, which only a hash can catch.
	f.write("h1", "hub/reg/new.properties", "new=1\n")
	f.write("h1", "hub/reg/sub/b.properties", strings.Repeat("b=3\n", 5000))
	if err := os.Remove(f.path("h1", "hub/reg/empty/.keep")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(f.path("h1", "hub/reg/a.properties"), f.path("h1", "hub/reg/renamed.properties")); err != nil {
		t.Fatal(err)
	}
	ini := f.path("h1", "hub/hub.ini")
	fi, _ := os.Stat(ini)
	f.write("h1", "hub/hub.ini", "HTTPPort=9090\nHubInstanceID=prod\n") // same length
	if err := os.Chtimes(ini, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	f.chtime("h1", "hub/reg/sub/b.properties", fi.ModTime()) // changed content, same size and time as pre-seeded

	rec = runAction(t, f.exec(rb, "window", nil, nil))
	if !rec.OK {
		t.Fatalf("window copy failed: %+v", rec)
	}
	src, dst := sortedTree(treeHashes(t, f.path("h1", "hub"))), withoutStaging(sortedTree(treeHashes(t, f.path("h2", "hub"))))
	if src != dst {
		t.Errorf("after the window copy the target differs from the source:\nsource:\n%s\ntarget:\n%s", src, dst)
	}
	if f.read("h2", "hub/hub.ini") != "HTTPPort=9090\nHubInstanceID=prod\n" {
		t.Error("a change of the same size and modification time was not caught by the hash")
	}
	if n := stagingNames(t, f); len(n) != 0 {
		t.Errorf("staging copies left after the window copy: %v", n)
	}
	all := strings.Join(rec.Changes, "\n")
	for _, want := range []string{"verified by SHA-256 on both hosts", "2 removed", "unchanged since the pre-seed",
		// hub.ini kept its size and time: sent because its hash differed.
		"hub.ini (1 file, 33 bytes, verified by SHA-256 on both hosts; 1 sent"} {
		if !strings.Contains(all, want) {
			t.Errorf("window copy record lacks %q:\n%s", want, all)
		}
	}
}

// withoutStaging drops the lines of names cutover adds beside a target (staging copies,
// what a replace kept aside) from a sorted tree listing.
func withoutStaging(tree string) string {
	var keep []string
	for _, l := range strings.Split(tree, "\n") {
		if !strings.Contains(l, ".cutover-") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func TestPreseedResumesAndRefusesPlantedLinks(t *testing.T) {
	t.Parallel()
	f := copyFixture(t)
	rb := testRunbook(t, preseedRunbook)
	// A link planted at a staging name: removed, never written through.
	outside := filepath.Join(f.root, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	planted := f.path("h2", "hub/reg.cutover-preseed-0123456789abcdef")
	if err := os.Symlink(outside, planted); err != nil {
		t.Fatal(err)
	}
	if rec := runAction(t, f.exec(rb, "preseed", nil, nil)); !rec.OK {
		t.Fatalf("pre-seed failed: %+v", rec)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("the pre-seed wrote through a planted link: %v", entries)
	}
	if _, err := os.Lstat(planted); err == nil {
		t.Error("the planted link is still there")
	}
	// A second pre-seed (a resumed run) sends nothing that is there already.
	rec := runAction(t, f.exec(rb, "preseed", nil, nil))
	if !rec.OK || rec.Files != 0 {
		t.Errorf("second pre-seed sent %d files (%v), want 0", rec.Files, rec.Changes)
	}
	// A half-written temporary file in the staging copy (a crash mid-file) goes.
	var staging string
	for _, n := range stagingNames(t, f) {
		if strings.HasPrefix(n, "reg.") {
			staging = f.path("h2", "hub/"+n)
		}
	}
	if err := os.WriteFile(filepath.Join(staging, "a.properties.cutover-tmp-00112233aabbccdd"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if rec := runAction(t, f.exec(rb, "window", nil, nil)); !rec.OK {
		t.Fatalf("window copy failed: %+v", rec)
	}
	if src, dst := sortedTree(treeHashes(t, f.path("h1", "hub"))), withoutStaging(sortedTree(treeHashes(t, f.path("h2", "hub")))); src != dst {
		t.Errorf("target differs from source:\n%s\n%s", src, dst)
	}
}

func TestPreseedSkippedStillCopiesInFull(t *testing.T) {
	t.Parallel()
	f := copyFixture(t)
	f.chtime("h1", "hub/hub.ini", time.Now().Add(-time.Hour))
	rb := testRunbook(t, preseedRunbook)
	rec := runAction(t, f.exec(rb, "window", nil, nil))
	if !rec.OK {
		t.Fatalf("window copy without a pre-seed failed: %+v", rec)
	}
	if src, dst := sortedTree(treeHashes(t, f.path("h1", "hub"))), withoutStaging(sortedTree(treeHashes(t, f.path("h2", "hub")))); src != dst {
		t.Errorf("target differs from source:\n%s\n%s", src, dst)
	}
}

func TestPreseedRunbookErrors(t *testing.T) {
	for _, tc := range []struct{ name, steps, want string }{
		{"no pre-seed step", `  - id: w
    title: w
    action:
      copy: {from: a, to: b, preseed: true, paths: [x]}
`, "no step pre-seeds this copy"},
		{"copy not marked", `  - id: p
    title: p
    action:
      preseed: {copy: w}
  - id: w
    title: w
    action:
      copy: {from: a, to: b, paths: [x]}
`, "does not say preseed: true"},
		{"pre-seed after the copy", `  - id: w
    title: w
    action:
      copy: {from: a, to: b, preseed: true, paths: [x]}
  - id: p
    title: p
    action:
      preseed: {copy: w}
`, "comes before this pre-seed"},
		{"into", `  - id: p
    title: p
    action:
      preseed: {copy: w}
  - id: w
    title: w
    action:
      copy: {from: a, to: b, mode: into, preseed: true, paths: [x]}
`, "needs mode replace"},
		{"unknown step", `  - id: p
    title: p
    action:
      preseed: {copy: nope}
`, `no step "nope"`},
	} {
		_, err := Parse("unit.yaml", []byte(testRunbookText(tc.steps)))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "unit.yaml:") {
			t.Errorf("%s: error %v, want one with a position and %q", tc.name, err, tc.want)
		}
	}
}
