package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestDidYouMean: a mistyped command or flag names the nearest ones and exits 2.
func TestDidYouMean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		has  []string
	}{
		{"command", []string{"rnu"}, []string{`unknown command "rnu"`, "Did you mean this?\n\trun\n"}},
		{"command two edits away", []string{"exprt"}, []string{"Did you mean this?\n\texport"}},
		{"flag", []string{"run", "--hedless"}, []string{"unknown flag: --hedless", "Did you mean this?\n\t--headless\n", "Run 'cutover run --help' for usage."}},
		{"flag prefix", []string{"replay", "--verify"}, []string{"Did you mean this?\n\t--verify-only"}},
		{"flag of another command", []string{"lab", "--senario", "maestro"}, []string{"\t--scenario"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, cutover(t, tc.args...), 2, tc.has...)
		})
	}
	// Nothing near: no suggestion.
	r := cutover(t, "run", "--zzzzzzzz")
	wantCode(t, r, 2, "unknown flag: --zzzzzzzz")
	if strings.Contains(r.out(), "Did you mean") {
		t.Errorf("a suggestion for a flag like no other:\n%s", r)
	}
}

// TestOneDashLongFlags: the one-dash spelling of a long flag, which the Go flag package
// took and operators' scripts have, still works.
func TestOneDashLongFlags(t *testing.T) {
	t.Parallel()
	r := cutover(t, "runbooks", "-json")
	wantCode(t, r, 0)
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) == 0 {
		t.Fatalf("runbooks -json: %v\n%s", err, r)
	}
	// A value that looks like a flag is left alone: it is the value of -o.
	got := longFlagsWithOneDash(newRoot(&env{}), []string{"export", "maestro/move-hub", "-o", "-json", "-preset=x", "-i", "inv.yaml", "--", "-json"})
	want := []string{"export", "maestro/move-hub", "-o", "-json", "--preset=x", "-i", "inv.yaml", "--", "-json"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rewritten to %q, want %q", got, want)
	}
}

// TestHelpHasExamples: every command's help shows examples.
func TestHelpHasExamples(t *testing.T) {
	t.Parallel()
	for _, c := range newRoot(&env{}).Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		if c.Example == "" {
			t.Errorf("cutover %s has no examples", c.Name())
		}
	}
	wantCode(t, cutover(t, "probe", "--help"), 0, "Examples:\n  cutover probe -i site.yaml", "--inventory FILE", "Exit codes:")
}

// TestVersion: cutover --version and cutover version say the same, and --json gives
// each part.
func TestVersion(t *testing.T) {
	t.Parallel()
	a, b := cutover(t, "--version"), cutover(t, "version")
	wantCode(t, a, 0, "cutover ", runtime.Version())
	if a.stdout != b.stdout {
		t.Errorf("--version says %q, version says %q", a.stdout, b.stdout)
	}
	r := cutover(t, "version", "--json")
	wantCode(t, r, 0)
	var v map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "commit", "build_date", "go_version"} {
		if v[k] == "" {
			t.Errorf("version --json lacks %s: %s", k, r.stdout)
		}
	}
}

// TestVersionFromBuildInfo: without stamps, the version comes from what the toolchain
// recorded; a stamp wins over it.
func TestVersionFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := buildInfo(bi)
	want := versionInfo{Version: "v1.4.0", Commit: "0123abcd-dirty", BuildDate: "2026-01-02T03:04:05Z", GoVersion: "go1.99"}
	if got != want {
		t.Errorf("from build info: %+v, want %+v", got, want)
	}
	if got := buildInfo(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}); got.Version != "dev" || got.Commit != "unknown" {
		t.Errorf("a development build: %+v", got)
	}
	buildVersion, buildCommit = "v2.0.0", "feedbeef"
	defer func() { buildVersion, buildCommit = "", "" }()
	if got := buildInfo(bi); got.Version != "v2.0.0" || got.Commit != "feedbeef" || got.BuildDate != "2026-01-02T03:04:05Z" {
		t.Errorf("stamped: %+v", got)
	}
}

// TestVersionStamped builds cutover as make build does and reads the stamps back.
func TestVersionStamped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "cutover")
	ld := "-X main.buildVersion=v9.8.7 -X main.buildCommit=c0ffee -X main.buildDate=2026-02-03T04:05:06Z"
	if out, err := exec.Command("go", "build", "-ldflags", ld, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "cutover v9.8.7 (commit c0ffee, built 2026-02-03T04:05:06Z, " + runtime.Version() + ")\n"; string(out) != want {
		t.Errorf("--version: %q, want %q", out, want)
	}
}
