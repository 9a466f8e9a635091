package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/lab"
)

// Writes never follow a planted link, and reads of host files are bounded: runs in the
// lab with links planted at the names cutover writes, an INI file that is a link, and
// one that is a link to /dev/zero.

// canaryState is the lab canary's content, to compare before and after a run.
func canaryState(t *testing.T, l *testLab) string {
	t.Helper()
	file, dir := l.Canary()
	return readFile(t, file) + "|" + readFile(t, filepath.Join(dir, "keep")) + "|" + strings.Join(names(t, dir), ",")
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// noWriteOutside fails the test if the lab's audit log shows a file change on a host
// outside that host's folder, or through a link (an open or setstat that led elsewhere),
// and returns the planted links it records.
func noWriteOutside(t *testing.T, l *testLab) []lab.AuditEntry {
	t.Helper()
	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	var planted []lab.AuditEntry
	for _, e := range entries {
		if e.Kind == "fault" && e.Op == lab.PlantLink {
			planted = append(planted, e)
			continue
		}
		if e.Kind != "sftp" || e.Error != "" {
			continue
		}
		root := l.HostRoot(e.Host) + string(filepath.Separator)
		if !strings.HasPrefix(e.Path, root) {
			t.Errorf("%s %s outside the host's folder: %s", e.Host, e.Op, e.Path)
		}
		if (e.Op == "open" || e.Op == "setstat") && e.Target != "" {
			t.Errorf("%s %s %s went through a link to %s", e.Host, e.Op, e.Path, e.Target)
		}
	}
	return planted
}

// TestPlantedLinksInTheLab: for every kind of name cutover creates on a host (the
// pre-seeded copy of a file and staging copy of a folder, the temporary file and the kept original of an
// INI edit and of a written file, the kept original's final name, the host lock), a link
// to the lab's canary is planted at it just before cutover creates it. The run stops
// with a message naming the name (or, where a rename replaces the link, goes on), the
// canary is untouched and the audit log shows no write outside a host's folder.
func TestPlantedLinksInTheLab(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, fault, run string
		code             int
		has              []string
	}{
		{"pre-seeded copy of a file", `link:spare:hub/hub\.ini\.cutover-preseed-[0-9a-f]{16}\.cutover-tmp-[0-9a-f]{16}$`, "maestro-move-hub", 1,
			[]string{"stopped at step preseed-hub-data", "exists already, though cutover had just chosen that name at random"}},
		{"pre-seeded staging copy of a folder", `link:spare:hub/accountreg\.cutover-preseed-[0-9a-f]{16}$`, "maestro-move-hub", 1,
			[]string{"stopped at step preseed-hub-data", "exists already, though cutover had just chosen that name at random"}},
		{"INI edit's temporary file", `link:lui:lui/lui\.ini\.cutover-tmp-[0-9a-f]{16}$`, "maestro-move-hub", 1,
			[]string{"stopped at step point-lui-to-hub", "exists already, though cutover had just chosen that name at random"}},
		{"INI edit's kept original", `link:lui:lui/lui\.ini\.cutover-orig-[0-9a-f]{16}$`, "maestro-move-hub", 1,
			[]string{"stopped at step point-lui-to-hub", "exists already, though cutover had just chosen that name at random"}},
		{"kept original's name", `link:lui:lui/lui\.ini\.cutover-[0-9]{8}T[0-9]{6}Z-[0-9a-f]+$`, "maestro-move-hub", 0,
			[]string{"done: every step is done"}},
		{"written file's temporary name", `link:proxy:maestro\.conf\.cutover-tmp-[0-9a-f]{16}$`, "maestro-proxy-aliases", 1,
			[]string{"exists already, though cutover had just chosen that name at random"}},
		{"host lock", `link:spare:opt/maestro/\.cutover\.lock$`, "maestro-move-hub", 1,
			[]string{".cutover.lock is a symbolic link (to ", "not a lock cutover made"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := startLab(t, tc.fault)
			before := canaryState(t, l)
			run := filepath.Join(l.Dir(), "runs", tc.run+".yaml")
			r := cutover(t, "run", "--from", run, "--headless", "--journal", filepath.Join(t.TempDir(), "run.jsonl"))
			if r.code != tc.code {
				t.Fatalf("want exit %d, got %s", tc.code, r)
			}
			planted := noWriteOutside(t, l)
			if len(planted) != 1 {
				t.Fatalf("links planted: %+v; want one (does cutover still use that name?)\n%s", planted, r)
			}
			if tc.code != 0 && !strings.Contains(r.out(), planted[0].Path) {
				t.Errorf("the message does not name the planted link %s:\n%s", planted[0].Path, r)
			}
			for _, s := range tc.has {
				if !strings.Contains(r.out(), s) {
					t.Errorf("output lacks %q:\n%s", s, r)
				}
			}
			if got := canaryState(t, l); got != before {
				t.Errorf("the canary changed: something was written through the planted link:\n%s", got)
			}
		})
	}
}

// TestINIFileLinkedAwayInTheLab: lui.ini is a link to a copy in /etc/maestro; the edit
// stops with a message naming the link and where it points, and the file behind it is
// left as it was.
func TestINIFileLinkedAwayInTheLab(t *testing.T) {
	t.Parallel()
	l := startLab(t, "lui-ini-link")
	real := filepath.Join(l.HostRoot("lui"), "etc", "maestro", "lui.ini")
	before := readFile(t, real)
	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", filepath.Join(t.TempDir(), "run.jsonl"))
	wantCode(t, r, 1, "stopped at step point-lui-to-hub", "refusing the INI file "+filepath.ToSlash(l.file("lui", "lui/lui.ini")),
		"it is a symbolic link (to "+real+")")
	if got := readFile(t, real); got != before {
		t.Errorf("the file behind the link changed:\n%s", got)
	}
	noWriteOutside(t, l)
}

// TestINIFileIsDevZeroInTheLab: the primary's sync settings are a link to /dev/zero; the
// probe and the checks that read them end at once with a message naming the file, and
// nothing is read without bound.
func TestINIFileIsDevZeroInTheLab(t *testing.T) {
	t.Parallel()
	l := startScenario(t, "maestro-ha", "sync-conf-dev-zero")
	run := filepath.Join(l.Dir(), "runs", "maestro-ha-prepare.yaml")
	r := cutover(t, "run", "--from", run, "--headless", "--journal", filepath.Join(t.TempDir(), "run.jsonl"))
	wantCode(t, r, 1, "maestro-sync/sync.conf is not a regular file (a character device)")
}
