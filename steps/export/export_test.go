package export_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"

	gold "github.com/cutover/cutover/steps/golden"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/probe/local"
	"github.com/cutover/cutover/probe/sshx"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/export"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/journal"
)

func golden(t *testing.T, name, got string) {
	t.Helper()
	gold.Check(t, filepath.Join("..", "..", "testdata", filepath.FromSlash(name)), got)
}

// fixedClock starts at a fixed time and moves one millisecond per reading, so every
// time in a run is known and in order.
func fixedClock() func() time.Time {
	base := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	var n atomic.Int64
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

var (
	realTime = regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?Z?`)
	logDate  = regexp.MustCompile(`\b(HUB|LUI|TRK)-\d{8}\.LOG\b`)
	dirSize  = regexp.MustCompile(`folder, \d+ bytes`)
	elapsed  = regexp.MustCompile(`Done in [0-9.]+(?:ms|s|µs)`)
)

// normalise replaces what differs from one run of the lab to the next: the lab's and
// the journal's folders, the run id, and the host's real clock (file times, log lines,
// log names); times on the run's own fixed clock stay.
func normalise(s string, repl map[string]string) string {
	for from, to := range repl {
		s = strings.ReplaceAll(s, from, to)
	}
	s = realTime.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "2001-02-03") {
			return m
		}
		return "<host time>"
	})
	s = logDate.ReplaceAllString(s, "$1-<date>.LOG")
	s = dirSize.ReplaceAllString(s, "folder, <size> bytes")
	return elapsed.ReplaceAllString(s, "Done in <elapsed>")
}

// TestJournalExportGolden runs move-hub in the lab with the startup-db-error fault and
// an operator override of the failed startup gates, then exports the journal: ticked
// items, times, evidence excerpts and the OVERRIDDEN marker with its reason.
func TestJournalExportGolden(t *testing.T) {
	// The scenario's logs are dated like the host's: use today, at noon, so the earlier
	// startup log is today's too whatever the time of the test.
	y, m, d := time.Now().Date()
	sc, err := runbooks.Scenario("maestro", time.Date(y, m, d, 12, 0, 0, 0, time.Local))
	if err != nil {
		t.Fatal(err)
	}
	l := labtest.Serve(t, sc, lab.Options{Faults: []string{"startup-db-error"}})
	ctx := context.Background()

	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	rf, err := steps.LoadRunFile(filepath.Join(l.Dir(), "runs", "maestro-move-hub.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := runbooks.Get(rf.Runbook)
	if err != nil {
		t.Fatal(err)
	}
	pool := probe.NewPool(&sshx.Dialer{NoAgent: true})
	defer pool.Close()
	var hosts []*probe.Host
	for _, name := range []string{"hub", "lui", "spare", "trk"} {
		hosts = append(hosts, inv.Host(name))
	}
	facts := map[string]*probe.Facts{}
	for _, f := range (&probe.Prober{Pool: pool}).ProbeAll(ctx, hosts) {
		if !f.Reachable {
			t.Fatalf("%s: %s", f.Name, f.Error)
		}
		f.OSName = "Linux (lab)" // the machine's own, which differs between machines
		facts[f.Name] = f
	}
	plan, err := steps.Prepare(rb, inv.Host, rf.Inputs(), facts)
	if err != nil {
		t.Fatal(err)
	}
	jdir := t.TempDir()
	path := filepath.Join(jdir, "move-hub.jsonl")
	w, err := journal.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := steps.Start(plan, w, steps.Options{Pool: pool, Now: fixedClock(), Operator: "alice@ops", Machine: "ops",
		Version: "test", Inventory: "inventory.yaml", InventoryDigest: inv.Digest})
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]*steps.Answer{}
	for k, v := range rf.Answers {
		answers[k] = v
	}
	const reason = "the DBA repaired maestro.lui_recipient_data (change 4711)"
	answers["start-maestro"] = &steps.Answer{Override: reason}
	res := headless.Drive(ctx, e, &steps.Answerer{Answers: answers, Via: "runfile"}, path)
	if res.Code != headless.ExitDone {
		t.Fatalf("run: code %d: %s", res.Code, res.Message)
	}
	w.Close()

	j, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	rplan, st, err := steps.Restore(j.Events, rb, inv.Host, steps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := export.Journal(&b, j, rplan, st); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"- [x] **3. Shut down LISTSERV Maestro on every server**",
		"**OVERRIDDEN**",
		"Reason: " + reason,
		"**2 checks or actions were overridden by the operator**",
		"Table 'maestro.lui_recipient_data' is marked as crashed",
		"Outcome: **done** at 2001-02-03 04:05:06Z",
		"alice@ops",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("export lacks %q", want)
		}
	}
	if strings.Contains(out, "- [ ]") {
		t.Errorf("a finished run has unticked items:\n%s", out)
	}
	out = normalise(out, map[string]string{l.Dir(): "<LAB>", jdir: "<JOURNALS>", st.Session.RunID: "<RUN>"})
	golden(t, "export/move-hub-overridden.md", out)
}

// ---------------------------------------------------------------------------------
// Exports of runs that did not end well, on a local host.

func localRun(t *testing.T, stepsYAML string, params map[string]string) (*steps.Engine, *journal.Writer, string, *steps.Runbook, steps.HostLookup) {
	t.Helper()
	src := `id: test/export
title: Export test
system: Test
source: the tests
roles:
  - {id: a, title: the host}
params:
  - {id: password, title: Password, type: string, secret: true, optional: true}
  - {id: port, title: A port, type: port, optional: true}
steps:
` + stepsYAML
	rb, err := steps.Parse("export.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	h := &probe.Host{Name: "h1", Address: "local", InstallDir: dir}
	lookup := func(name string) *probe.Host {
		if name == "h1" {
			return h
		}
		return nil
	}
	plan, err := steps.Prepare(rb, lookup, steps.Inputs{Roles: map[string]string{"a": "h1"}, Params: params}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := probe.NewPool(probe.DialerFunc(func(context.Context, *probe.Host) (probe.Transport, error) {
		return &local.Transport{Dir: dir}, nil
	}))
	t.Cleanup(func() { pool.Close() })
	path := filepath.Join(t.TempDir(), "run.jsonl")
	w, err := journal.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	e, err := steps.Start(plan, w, steps.Options{Pool: pool, Now: fixedClock(), Operator: "bob@ops"})
	if err != nil {
		t.Fatal(err)
	}
	return e, w, path, rb, lookup
}

func exportOf(t *testing.T, path string, rb *steps.Runbook, lookup steps.HostLookup, secrets map[string]string) string {
	t.Helper()
	j, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	plan, st, err := steps.Restore(j.Events, rb, lookup, steps.Options{Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := export.Journal(&b, j, plan, st); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustContain(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("export lacks %q:\n%s", w, out)
		}
	}
}

func TestExportUnfinishedAndAborted(t *testing.T) {
	e, _, path, rb, lookup := localRun(t, `  - id: chore
    title: An optional chore
    manual: true
    optional: true
  - id: act
    title: Act
    action:
      run: {role: a, command: "echo acting"}
  - id: wait
    title: Wait for the operator
    manual: true
`, nil)
	ctx := context.Background()
	d := &steps.Answerer{Answers: map[string]*steps.Answer{"chore": {Skip: "not needed on this site"}}, Via: "runfile"}
	res := headless.Drive(ctx, e, d, path)
	if res.Code != headless.ExitNeedsOp || res.Prompt == nil || res.Prompt.Step != "wait" {
		t.Fatalf("drive: %+v", res)
	}
	out := exportOf(t, path, rb, lookup, nil)
	mustContain(t, out,
		"Outcome: **not finished** (resume with `cutover resume "+path+"`).",
		"- [x] ~~1. An optional chore~~ (`chore`) skipped: not needed on this site",
		"- [x] **2. Act** (`act`; hosts: h1) done 2001-02-03 04:05:06Z to 04:05:06Z",
		"- [x] Action: run a command on h1",
		"h1: acting",
		"- [ ] **3. Wait for the operator** (`wait`) **in progress** since 2001-02-03 04:05:06Z",
		"| port | (empty) |",
		"Decision (confirm, bob@ops via runfile): skipped: not needed on this site")

	if err := e.Decide(steps.Decision{Kind: steps.Abort, Reason: "window closed"}); err != nil {
		t.Fatal(err)
	}
	out = exportOf(t, path, rb, lookup, nil)
	mustContain(t, out, "Outcome: **aborted** at 2001-02-03 04:05:06Z: aborted at step wait: window closed.",
		"- [ ] **3. Wait for the operator** (`wait`) **ABORTED** 2001-02-03 04:05:06Z",
		"Decision (confirm, bob@ops): abort: window closed")
}

// TestExportOutcomeUnknown: an action that started with no result is shown as such.
func TestExportOutcomeUnknown(t *testing.T) {
	e, w, path, rb, lookup := localRun(t, `  - id: act
    title: Act
    action:
      run: {role: a, command: "echo acting"}
`, nil)
	res := headless.Drive(context.Background(), e, nil, path)
	if res.Code != headless.ExitDone {
		t.Fatalf("drive: %+v", res)
	}
	w.Close()
	// Cut after the action's start: the process died before its result.
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	var keep string
	for _, l := range lines {
		keep += l
		if strings.Contains(l, `"type":"action_start"`) {
			break
		}
	}
	os.WriteFile(path, []byte(keep), 0o600)
	out := exportOf(t, path, rb, lookup, nil)
	mustContain(t, out, "**Outcome unknown**: the action started at 2001-02-03 04:05:06Z and no result was recorded.",
		"- [ ] Action: run a command on h1", "**in progress**")
}

// TestExportHidesSecrets: a plan built with a secret's value renders it nowhere.
func TestExportHidesSecrets(t *testing.T) {
	const canary = "pw-4c0ffee"
	e, w, path, rb, lookup := localRun(t, `  - id: act
    title: Use the password
    action:
      run: {role: a, command: "echo using {{ params.password }} >/dev/null"}
    gates:
      - command: {role: a, run: "test {{ params.password }} = '`+canary+`'"}
`, map[string]string{"password": canary})
	if res := headless.Drive(context.Background(), e, nil, path); res.Code != headless.ExitDone {
		t.Fatalf("drive: %+v", res)
	}
	w.Close()
	out := exportOf(t, path, rb, lookup, map[string]string{"password": canary})
	if strings.Contains(out, canary) {
		t.Errorf("the export shows the secret:\n%s", out)
	}
	mustContain(t, out, "| password | [secret] |", "[secret]")

	var b bytes.Buffer
	plan, err := steps.Prepare(rb, lookup, steps.Inputs{Roles: map[string]string{"a": "h1"}, Params: map[string]string{"password": canary}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := export.Plan(&b, plan); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), canary) {
		t.Errorf("the plan export shows the secret:\n%s", b.String())
	}
}

// TestExportTamperedJournal: an edited journal exports with a warning on top.
func TestExportTamperedJournal(t *testing.T) {
	e, w, path, rb, lookup := localRun(t, `  - id: act
    title: Act
    action:
      run: {role: a, command: "echo acting"}
`, nil)
	if res := headless.Drive(context.Background(), e, nil, path); res.Code != headless.ExitDone {
		t.Fatalf("drive: %+v", res)
	}
	w.Close()
	data, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(data, []byte(`acting`), []byte(`ACTING`), 1), 0o600)
	out := exportOf(t, path, rb, lookup, nil)
	if !strings.HasPrefix(out, "> **WARNING: this journal fails its integrity check**") {
		t.Errorf("no warning on top:\n%s", out)
	}
}

// hostile is what a host (or whoever wrote a file it serves) might send to forge a
// change ticket: HTML, a javascript: link, a ticked box on a line of its own, a fence
// that would close the code block, a window-title escape sequence.
const hostile = "<img src=x onerror=alert(1)> [x](javascript:alert(1)) | a | b |\n- [x] step done \x1b]0;pwned\x07 ~~struck~~ *em* &#x202e;"

var (
	checkedBox = regexp.MustCompile(`<input checked="" disabled="" type="checkbox"\s*/?>\s*([^<\n]*)`)
	codeBlock  = regexp.MustCompile(`(?s)<pre><code[^>]*>(.*?)</code></pre>`)
)

// TestExportNeutralisesHostText: output, evidence, file names, reasons and notes full of
// Markdown and HTML come out of the checklist as the text they are. The checklist is
// rendered as GitHub-flavoured Markdown with raw HTML allowed (as a ticket may), and
// the HTML is searched for what the host tried to make: an image, a javascript: link,
// a ticked box, a struck or emphasised word, text escaping its code block.
func TestExportNeutralisesHostText(t *testing.T) {
	e, w, path, rb, lookup := localRun(t, `  - id: act
    title: Act
    action:
      run: {role: a, command: "cat hostile.txt; printf '%s\\n' '`+"````"+`' 'after the fence'; exit 1"}
  - id: logs
    title: Logs
    gates:
      - newest_file: {role: a, path: "logs/*.log", contains: [never there]}
  - id: chore
    title: Chore
    manual: true
    optional: true
`, nil)
	dir := lookup("h1").InstallDir
	if err := os.WriteFile(filepath.Join(dir, "hostile.txt"), []byte(hostile+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "logs", strings.ReplaceAll(hostile, "/", "∕")+".log"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.Note("broke the lock of " + hostile); err != nil {
		t.Fatal(err)
	}
	d := &steps.Answerer{Via: "runfile", Answers: map[string]*steps.Answer{
		"act":   {Override: "checked by hand " + hostile},
		"logs":  {Override: "fine " + hostile},
		"chore": {Skip: "later " + hostile},
	}}
	if res := headless.Drive(context.Background(), e, d, path); res.Code != headless.ExitDone {
		t.Fatalf("drive: %+v", res)
	}
	w.Close()
	md := exportOf(t, path, rb, lookup, nil)
	if strings.ContainsAny(md, "\x1b\x07\r") {
		t.Errorf("control characters in the checklist:\n%q", md)
	}
	var out bytes.Buffer
	gm := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))
	if err := gm.Convert([]byte(md), &out); err != nil {
		t.Fatal(err)
	}
	h := out.String()
	for _, bad := range []string{"<img", `href="javascript:`, "<del>struck", "<em>em", "<td> a </td>", "&#x202e;", "\u202e"} {
		if strings.Contains(h, bad) {
			t.Errorf("the rendered checklist holds %q:\n%s\n\nfrom:\n%s", bad, h, md)
		}
	}
	// Every ticked box is cutover's: a step, an action or a check.
	for _, m := range checkedBox.FindAllStringSubmatch(h, -1) {
		if strings.Contains(m[1], "step done") {
			t.Errorf("a forged ticked box: %q\n%s", m[1], md)
		}
	}
	if n := len(checkedBox.FindAllString(h, -1)); n != 4 {
		t.Errorf("%d ticked boxes, want 4 (the three steps and the overridden gate):\n%s", n, md)
	}
	// The output stays inside its code block, fence and all.
	inBlock := false
	for _, m := range codeBlock.FindAllStringSubmatch(h, -1) {
		if strings.Contains(m[1], "````") && strings.Contains(m[1], "after the fence") && strings.Contains(m[1], "&lt;img") {
			inBlock = true
		}
	}
	if !inBlock {
		t.Errorf("the action's output left its code block:\n%s", h)
	}
	// The text is still there to read, escaped.
	for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;", "[x](javascript:alert(1))", `\n- [x] step done \x1b]0;pwned\a`} {
		if !strings.Contains(h, want) {
			t.Errorf("the rendered checklist lacks %q:\n%s", want, h)
		}
	}
}
