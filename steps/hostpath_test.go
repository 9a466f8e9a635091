package steps

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/local"
)

// TestPathRule: the path rules, as a table. A target that is, or contains, a system
// folder, a home folder or the install folder is refused in both directions; a path
// inside them is not.
func TestPathRule(t *testing.T) {
	const install = "/opt/maestro"
	for _, tc := range []struct {
		p, install string
		rule       string // "" when allowed; else a part of the rule
	}{
		{"/", install, "/ is a system folder"},
		{"/etc", install, "/etc is a system folder"},
		{"/etc/", install, "/etc is a system folder"},
		{"//etc//", install, "/etc is a system folder"},
		{"/usr", install, "system folder"},
		{"/var", install, "system folder"},
		{"/home", install, "system folder"},
		{"/tmp", install, "/tmp is a system folder"},
		{"/root", install, "system folder"},
		{"/opt", install, "/opt is a system folder"},
		{"/var/tmp/../../etc", install, "/etc is a system folder"},
		{"/var/tmp/restore/../../..", install, "/ is a system folder"},
		{"/opt/maestro/lui/../../../usr/local", install, "/usr/local is a system folder"},
		{"/var/tmp/maestro-lui-restore", install, ""},
		{"/var/tmp/maestro-lui-restore/", install, ""},
		{"/etc/maestro-sync.conf", install, ""},
		{"/etc/nginx/conf.d/maestro.conf", install, ""},
		{"/tmp/lab/hosts/hub/opt/maestro", "", ""},
		{"/home/alice", install, "/home/alice is a user's home folder"},
		{"/home/alice/restore", install, ""},
		{"/Users/bob", install, "home folder"},
		// The install folder, its parents and its insides.
		{"/opt/maestro", install, "/opt/maestro is the install folder itself"},
		{"/opt/maestro/", install, "the install folder itself"},
		{"/opt/maestro/lui/..", install, "the install folder itself"},
		{"/srv/maestro", "/srv/maestro/app", "/srv/maestro contains the install folder /srv/maestro/app"},
		{"/data", "/data/maestro", "/data contains the install folder /data/maestro"},
		{"/data/maestro/hub", "/data/maestro", ""},
		{"/data/maestro2", "/data/maestro", ""},
		{"/opt/maestro/lui/lui.ini", install, ""},
		{"/usr/local/share/x", install, ""},
		// Windows paths compare without regard to case or slashes.
		{`C:\`, `C:\MDaemon`, "the root of a drive"},
		{`D:/`, `C:\MDaemon`, "the root of a drive"},
		{`C:\Windows`, `C:\MDaemon`, "system folder"},
		{`c:/windows/`, `C:\MDaemon`, "system folder"},
		{`C:\Program Files`, `C:\MDaemon`, "system folder"},
		{`C:\Program Files\MDaemon`, `C:\Program Files\MDaemon`, "the install folder itself"},
		{`c:\program files\mdaemon\app`, `C:\Program Files\MDaemon`, ""},
		{`/C:/Users`, `C:\MDaemon`, "system folder"},
		{`C:\Users\admin`, `C:\MDaemon`, "home folder"},
		{`C:\MDaemon\CFG\..\..`, `C:\MDaemon`, "root of a drive"},
		{`C:\MDaemon`, `C:\mdaemon\`, "the install folder itself"},
		{`C:\Backup\restore`, `C:\MDaemon`, ""},
		{"", install, "empty"},
		// Relative paths are judged once joined to the install folder.
		{"lui/lui.ini", install, ""},
	} {
		got := pathRule(tc.p, tc.install)
		switch {
		case tc.rule == "" && got != "":
			t.Errorf("pathRule(%q, %q) = %q, want allowed", tc.p, tc.install, got)
		case tc.rule != "" && !strings.Contains(got, tc.rule):
			t.Errorf("pathRule(%q, %q) = %q, want %q", tc.p, tc.install, got, tc.rule)
		}
	}
}

func TestCleanHostPath(t *testing.T) {
	for in, want := range map[string]string{
		"/a/b/../c/": "/a/c", "/": "/", "/..": "/", `C:\x\..\y`: "C:/y", "c:": "C:/", "/c:/Users": "C:/Users",
		"a/./b": "a/b", "/a//b": "/a/b",
	} {
		if got := cleanHostPath(in); got != want {
			t.Errorf("cleanHostPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// linkTree makes a folder with links for the resolution tests:
//
//	root/real/inst        the install folder, reached as root/opt/maestro
//	root/opt/maestro  ->  ../real/inst
//	root/up           ->  / (absolute)
//	root/loop         ->  loop
func linkTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"real/inst/lui", "opt"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, to := range map[string]string{"opt/maestro": "../real/inst", "up": "/", "loop": "loop"} {
		if err := os.Symlink(to, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestResolveOnHost: links are followed part by part on the host, relative and
// absolute, with ".." applied to where a link led; missing parts are kept as written.
func TestResolveOnHost(t *testing.T) {
	root := linkTree(t)
	tr := &local.Transport{}
	ctx := context.Background()
	for _, tc := range []struct {
		p    string
		last bool
		want string
	}{
		{root + "/opt/maestro/lui", true, root + "/real/inst/lui"},
		{root + "/opt/maestro/lui/new/x", true, root + "/real/inst/lui/new/x"},
		{root + "/opt/maestro/..", true, root + "/real"},
		{root + "/opt/maestro", false, root + "/opt/maestro"},
		{root + "/opt/maestro", true, root + "/real/inst"},
		{root + "/up/etc", true, "/etc"},
		{root + "/up/etc/../var/tmp", true, "/var/tmp"},
	} {
		got, err := resolveOnHost(ctx, tr, tc.p, tc.last)
		if err != nil || got != tc.want {
			t.Errorf("resolveOnHost(%q, %v) = %q, %v; want %q", tc.p, tc.last, got, err, tc.want)
		}
	}
	if _, err := resolveOnHost(ctx, tr, root+"/loop/x", true); err == nil || !strings.Contains(err.Error(), "symbolic links") {
		t.Errorf("a link loop: %v", err)
	}
}

// TestSafeTarget: a target is refused by what it is as written and by where its links
// lead on the host; a link at the target itself is refused unless followed, and then
// judged by where it leads.
func TestSafeTarget(t *testing.T) {
	root := linkTree(t)
	tr := &local.Transport{}
	ctx := context.Background()
	h := &probe.Host{Name: "h", InstallDir: root + "/opt/maestro"}
	// A restore folder whose parent is a link to /, one that is a link to the install
	// folder's parent, and one that is a plain folder.
	for link, to := range map[string]string{"r1": "/", "r2": root + "/real", "r3": root + "/opt/maestro/lui"} {
		if err := os.Symlink(to, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		p      string
		follow bool
		want   string // error part, or "" when allowed
		at     string // where it acts when allowed
	}{
		{root + "/restore", false, "", root + "/restore"},
		{root + "/opt/maestro/lui/lui.ini", false, "", root + "/real/inst/lui/lui.ini"},
		{root + "/opt/maestro", false, "is the install folder itself", ""},
		{root + "/opt/maestro", true, "is the install folder itself", ""},
		{root + "/real/inst", false, "is the install folder itself", ""},
		{root + "/real", false, "contains the install folder", ""},
		{root + "/opt/maestro/..", false, "contains the install folder", ""},
		{root + "/opt/maestro/lui/../..", false, "contains the install folder", ""},
		{"/", false, "/ is a system folder", ""},
		{root + "/r1/etc", false, "which leads to /etc on the host): /etc is a system folder", ""},
		{root + "/r1", true, "/ is a system folder", ""},
		{root + "/r2", true, "contains the install folder", ""},
		{root + "/r2", false, "is a symbolic link (to " + root + "/real)", ""},
		{root + "/r3", true, "", root + "/real/inst/lui"},
		{"relative/x", false, "", root + "/real/inst/relative/x"},
	} {
		p := h.Resolve(tc.p)
		at, err := safeTarget(ctx, tr, h, p, targetOpts{What: "the test target", Follow: tc.follow})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("safeTarget(%s, follow %v): %v", tc.p, tc.follow, err)
		case tc.want == "" && at != tc.at:
			t.Errorf("safeTarget(%s, follow %v) acts on %s, want %s", tc.p, tc.follow, at, tc.at)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("safeTarget(%s, follow %v) = %q, %v; want an error with %q", tc.p, tc.follow, at, err, tc.want)
		case tc.want != "" && !strings.Contains(err.Error(), "h: refusing the test target "):
			t.Errorf("the refusal does not name the host, the use and the path: %v", err)
		}
		var pr *PathRefusal
		var lr *LinkRefusal
		if tc.want != "" && err != nil && !errors.As(err, &pr) && !errors.As(err, &lr) {
			t.Errorf("safeTarget(%s): %T is neither a PathRefusal nor a LinkRefusal", tc.p, err)
		}
	}
}

// TestPlanShowsRefusals: a plan names a refused path before anything runs, for every
// action that writes.
func TestPlanShowsRefusals(t *testing.T) {
	rb := testRunbook(t, `  - id: ini
    title: ini
    action:
      ini: {role: a, file: "{{ params.word }}", set: {K: v}}
  - id: write
    title: write
    action:
      write: {role: a, file: "{{ params.word }}", content: "x\n"}
  - id: copy
    title: copy
    action:
      copy: {from: a, to: b, paths: [{src: x, dst: "{{ params.word }}"}]}
`)
	f := newFixture(t)
	for _, step := range []string{"ini", "write", "copy"} {
		x := f.exec(rb, step, nil, map[string]string{"word": "/etc/"})
		if _, err := x.step.Action.Spec.plan(x); err == nil || !strings.Contains(err.Error(), "/etc is a system folder") {
			t.Errorf("plan of %s to /etc/: %v", step, err)
		}
	}
}
