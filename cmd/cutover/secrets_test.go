package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
)

// noFileHolds fails when any file under dirs (or a file named) holds secret.
func noFileHolds(t *testing.T, secret string, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		filepath.WalkDir(d, func(path string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return nil
			}
			if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), secret) {
				t.Errorf("%s holds the secret", path)
			}
			return nil
		})
	}
}

// secretRun runs the local token runbook (localSetup) with extra arguments giving the
// token, checks the host got it, and that nothing cutover writes holds it: the
// journal, an export, a run file written from the same inputs.
func secretRun(t *testing.T, canary string, give ...string) result {
	t.Helper()
	inv, rbFile, hostDir := localSetup(t)
	out := t.TempDir()
	jpath := filepath.Join(out, "run.jsonl")
	r := cutover(t, append([]string{"run", rbFile, "-i", inv, "--role", "app=me", "--headless", "-v", "--journal", jpath}, give...)...)
	wantCode(t, r, 0, "done: every step is done")
	if got := readFile(t, filepath.Join(hostDir, "token.conf")); got != "token="+canary+"\n" {
		t.Fatalf("token.conf = %q", got)
	}
	if strings.Contains(r.out(), canary) {
		t.Errorf("the run printed the secret:\n%s", r)
	}
	wantCode(t, cutover(t, "export", jpath, "-o", filepath.Join(out, "checklist.md")), 0)
	rb, err := runbooks.LoadFile(rbFile)
	if err != nil {
		t.Fatal(err)
	}
	rf := steps.NewRunFile(rb, steps.Inputs{Roles: map[string]string{"app": "me"}, Params: map[string]string{"token": canary}}, inv)
	if err := rf.Save(filepath.Join(out, "run.yaml")); err != nil {
		t.Fatal(err)
	}
	noFileHolds(t, canary, out, inv, rbFile)
	return r
}

// TestSecretFromFile: --set-file KEY=PATH gives a secret without the command line.
func TestSecretFromFile(t *testing.T) {
	t.Parallel()
	const canary = "tok-file-5a1b"
	f := filepath.Join(t.TempDir(), "token")
	os.WriteFile(f, []byte(canary+"\n"), 0o600)
	r := secretRun(t, canary, "--set-file", "token="+f)
	if strings.Contains(r.stderr, "warning: --set") {
		t.Errorf("a warning for a secret given in a file:\n%s", r)
	}
	wantCode(t, cutover(t, "run", "x/y", "--set-file", "token=/nonexistent/token", "--headless"), 2, "--set-file token=/nonexistent/token")
}

// TestSecretFromEnvironment: CUTOVER_PARAM_TOKEN gives the token, and cutover takes
// it out of its environment (commands it runs do not inherit it).
func TestSecretFromEnvironment(t *testing.T) {
	const canary = "tok-env-6c2d"
	t.Setenv("CUTOVER_PARAM_TOKEN", canary)
	secretRun(t, canary)
	if _, ok := os.LookupEnv("CUTOVER_PARAM_TOKEN"); ok {
		t.Error("CUTOVER_PARAM_TOKEN is still in the environment")
	}
}

// TestSecretOnCommandLineWarns: --set of a secret works and says who can see it.
func TestSecretOnCommandLineWarns(t *testing.T) {
	t.Parallel()
	const canary = "tok-set-7e3f"
	r := secretRun(t, canary, "--set", "token="+canary)
	wantCode(t, r, 0, "warning: --set token puts a secret on the command line", "--set-file token=FILE or CUTOVER_PARAM_TOKEN")
}

// TestSecretResumeFromFile: a resume takes the secret it needs again from --set-file.
func TestSecretResumeFromFile(t *testing.T) {
	t.Parallel()
	const canary = "tok-resume-8a4b"
	inv, rbFile, _ := localSetup(t)
	dir := t.TempDir()
	jpath := filepath.Join(dir, "run.jsonl")
	f := filepath.Join(dir, "token")
	os.WriteFile(f, []byte(canary), 0o600)
	wantCode(t, cutover(t, "run", rbFile, "-i", inv, "--role", "app=me", "--set-file", "token="+f, "--headless", "--journal", jpath), 0)
	lines := strings.SplitAfter(readFile(t, jpath), "\n")
	cut := filepath.Join(dir, "cut.jsonl")
	os.WriteFile(cut, []byte(strings.Join(lines[:3], "")), 0o600)
	wantCode(t, cutover(t, "resume", cut, "--set-file", "token="+f, "--headless"), 0, "done: every step is done")
	noFileHolds(t, canary, inv, rbFile, jpath, cut)
}

// TestSecretPrompt: on a terminal, a secret still missing is asked for with echo off.
func TestSecretPrompt(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the built program in tmux")
	}
	t.Parallel()
	const canary = "tok-prompt-9c5d"
	bin := buildCutover(t)
	inv, rbFile, hostDir := localSetup(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	tm := startTmux(t, 120, 30, t.TempDir(), nil, bin, "run", rbFile, "-i", inv, "--role", "app=me", "--headless", "--journal", jpath)
	tm.waitFor("API token (token) (secret, not shown):")
	tm.text(canary)
	tm.keys("Enter")
	screen := tm.waitFor("[cutover exited: 0]")
	if strings.Contains(screen, canary) {
		t.Errorf("the secret was shown:\n%s", screen)
	}
	if got := readFile(t, filepath.Join(hostDir, "token.conf")); got != "token="+canary+"\n" {
		t.Fatalf("token.conf = %q", got)
	}
	noFileHolds(t, canary, filepath.Dir(jpath), inv, rbFile)
}

// TestPlanTakesSecretsAsARunDoes: plan reads a secret from --set-file and from
// CUTOVER_PARAM_*, warns of one given with --set, never prints it, and without it says
// which parameter is missing and how to give it.
func TestPlanTakesSecretsAsARunDoes(t *testing.T) {
	const canary = "tok-plan-3d9e"
	inv, rbFile, _ := localSetup(t)
	plan := func(give ...string) result {
		t.Helper()
		r := cutover(t, append([]string{"plan", rbFile, "-i", inv, "--role", "app=me"}, give...)...)
		if strings.Contains(r.out(), canary) {
			t.Errorf("plan printed the secret:\n%s", r)
		}
		return r
	}
	wantCode(t, plan(), 2, "parameter token (API token) is a required secret: give it with --set-file token=FILE or CUTOVER_PARAM_TOKEN")
	f := filepath.Join(t.TempDir(), "token")
	os.WriteFile(f, []byte(canary+"\n"), 0o600)
	r := plan("--set-file", "token="+f)
	wantCode(t, r, 0, "token = (secret)", "The run could start")
	if strings.Contains(r.stderr, "warning: --set") {
		t.Errorf("a warning for a secret given in a file:\n%s", r)
	}
	wantCode(t, plan("--set-file", "token=/nonexistent/token"), 2, "--set-file token=/nonexistent/token")
	wantCode(t, plan("--set", "token="+canary), 0, "warning: --set token puts a secret on the command line")
	t.Setenv("CUTOVER_PARAM_TOKEN", canary)
	r = plan()
	wantCode(t, r, 0, "token = (secret)")
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("a warning for a secret from the environment:\n%s", r)
	}
}
