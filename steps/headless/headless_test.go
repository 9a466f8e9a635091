package headless_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/local"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
)

type memRec struct{ n int }

func (m *memRec) Record(*steps.Event) error { m.n++; return nil }

// engine starts a run of the given steps on one local host h1 (a temporary folder);
// dial, when set, replaces the local transport.
func engine(t *testing.T, stepsYAML string, obs steps.Observer, dial probe.DialerFunc) (*steps.Engine, string) {
	t.Helper()
	src := `id: test/headless
title: Headless test
system: Test
source: the tests
roles:
  - {id: a, title: the host}
steps:
` + stepsYAML
	rb, err := steps.Parse("headless.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	h := &probe.Host{Name: "h1", Address: "local", InstallDir: dir}
	if dial == nil {
		dial = func(context.Context, *probe.Host) (probe.Transport, error) { return &local.Transport{Dir: dir}, nil }
	}
	pool := probe.NewPool(dial)
	t.Cleanup(func() { pool.Close() })
	plan, err := steps.Prepare(rb, func(string) *probe.Host { return h }, steps.Inputs{Roles: map[string]string{"a": "h1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := steps.Start(plan, &memRec{}, steps.Options{Pool: pool, Observer: obs, Operator: "op"})
	if err != nil {
		t.Fatal(err)
	}
	return e, dir
}

type answers map[string]*steps.Answer

func (a answers) decider() *steps.Answerer { return &steps.Answerer{Answers: a, Via: "runfile"} }

func TestDriveCodes(t *testing.T) {
	unreachable := func(_ context.Context, h *probe.Host) (probe.Transport, error) {
		return nil, &probe.UnreachableError{Host: h.Name, Addr: "127.0.0.1:1", Err: errors.New("connection refused")}
	}
	tests := []struct {
		name    string
		steps   string
		answers answers
		dial    probe.DialerFunc
		code    int
		kind    steps.PromptKind
		msg     []string
	}{
		{name: "done", steps: "  - {id: s, title: S, action: {run: {role: a, command: 'true'}}}\n", code: headless.ExitDone},
		{name: "manual without answer", steps: "  - {id: s, title: Do it by hand, manual: true, phrase: SURE}\n",
			code: headless.ExitNeedsOp, kind: steps.AskConfirm,
			msg: []string{"stopped at step s (Do it by hand)", "needs an operator", `asks for the phrase "SURE"`, "cutover resume J.jsonl"}},
		{name: "manual answered", steps: "  - {id: s, title: S, manual: true, phrase: SURE}\n",
			answers: answers{"s": {Phrase: "SURE"}}, code: headless.ExitDone},
		{name: "wrong phrase", steps: "  - {id: s, title: S, manual: true, phrase: SURE}\n",
			answers: answers{"s": {Phrase: "sure"}}, code: headless.ExitNeedsOp, kind: steps.AskConfirm,
			msg: []string{"step s: the recorded answer does not fit: to confirm, type exactly: SURE"}},
		{name: "gate fails", steps: "  - {id: s, title: S, gates: [{file_exists: {role: a, path: nothing}}]}\n",
			code: headless.ExitNeedsOp, kind: steps.AskCheckFailed, msg: []string{"a check failed: ", "nothing is missing on h1"}},
		{name: "gate overridden", steps: "  - {id: s, title: S, gates: [{file_exists: {role: a, path: nothing}}]}\n",
			answers: answers{"s": {Override: "not on this site"}}, code: headless.ExitDone},
		{name: "action fails", steps: "  - {id: s, title: S, action: {run: {role: a, command: 'exit 7'}}}\n",
			code: headless.ExitNeedsOp, kind: steps.AskActionFailed, msg: []string{"the action failed: h1: exit code 7 (expected 0)"}},
		{name: "unreachable", steps: "  - {id: s, title: S, gates: [{file_exists: {role: a, path: x}}]}\n", dial: unreachable,
			code: headless.ExitUnreachable, kind: steps.AskCheckFailed, msg: []string{"unreachable"}},
		{name: "unreachable action", steps: "  - {id: s, title: S, action: {run: {role: a, command: 'true'}}}\n", dial: unreachable,
			code: headless.ExitUnreachable, kind: steps.AskActionFailed, msg: []string{"connection refused"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := engine(t, tc.steps, nil, tc.dial)
			res := headless.Drive(context.Background(), e, tc.answers.decider(), "J.jsonl")
			if res.Code != tc.code {
				t.Fatalf("code %d, want %d: %s", res.Code, tc.code, res.Message)
			}
			if tc.kind != "" && (res.Prompt == nil || res.Prompt.Kind != tc.kind) {
				t.Errorf("prompt %+v, want %s", res.Prompt, tc.kind)
			}
			for _, m := range tc.msg {
				if !strings.Contains(res.Message, m) {
					t.Errorf("message %q lacks %q", res.Message, m)
				}
			}
			if tc.code == headless.ExitDone && (!e.Finished() || res.Message != "") {
				t.Errorf("done: finished=%v message %q", e.Finished(), res.Message)
			}
		})
	}
}

func TestDriveInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	obs := &headless.Printer{W: &bytes.Buffer{}}
	e, _ := engine(t, "  - {id: s, title: S, gates: [{file_exists: {role: a, path: later}, wait: {timeout: 1m, every: 10ms}}]}\n",
		cancelOnWait{obs, cancel}, nil)
	t0 := time.Now()
	res := headless.Drive(ctx, e, nil, "J.jsonl")
	if res.Code != headless.ExitInterrupted || !strings.Contains(res.Message, "cutover resume J.jsonl") {
		t.Fatalf("code %d: %s", res.Code, res.Message)
	}
	if time.Since(t0) > 10*time.Second {
		t.Error("the interrupt did not stop the wait")
	}
	if e.Finished() {
		t.Error("an interrupted run is not finished")
	}
}

// cancelOnWait cancels the run the first time a gate waits.
type cancelOnWait struct {
	*headless.Printer
	cancel func()
}

func (c cancelOnWait) Progress(p steps.Progress) {
	c.Printer.Progress(p)
	if p.Last != nil {
		c.cancel()
	}
}

func TestDriveAbort(t *testing.T) {
	e, _ := engine(t, "  - {id: s, title: S, manual: true}\n", nil, nil)
	p := e.Prompt()
	if p == nil {
		if err := e.Advance(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Decide(steps.Decision{Kind: steps.Abort, Reason: "no window"}); err != nil {
		t.Fatal(err)
	}
	res := headless.Drive(context.Background(), e, nil, "J.jsonl")
	if res.Code != headless.ExitNeedsOp || !strings.Contains(res.Message, "aborted at step s: no window") {
		t.Errorf("an aborted run: code %d %q", res.Code, res.Message)
	}
}

// TestAnswererOnce: a recorded answer is used once per question, so a gate that keeps
// failing is not overridden again and again, and the run stops.
func TestAnswererOnce(t *testing.T) {
	e, dir := engine(t, `  - id: s
    title: S
    action:
      run: {role: a, command: "echo x >> runs.txt; exit 1"}
`, nil, nil)
	a := answers{"s": {Override: "fine"}}.decider()
	// The first failure is overridden; a retry is not in the answers.
	res := headless.Drive(context.Background(), e, a, "J.jsonl")
	if res.Code != headless.ExitDone {
		t.Fatalf("code %d: %s", res.Code, res.Message)
	}
	st := e.State().Step("s")
	if st.Status != steps.StepOverridden || st.Reason != "fine" {
		t.Errorf("step %s %q", st.Status, st.Reason)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "runs.txt"))
	if strings.Count(string(b), "x") != 1 {
		t.Errorf("the action ran %d times", strings.Count(string(b), "x"))
	}

	p := &steps.Prompt{Step: "s", Kind: steps.AskCheckFailed, On: steps.OnGates, Choices: []steps.DecisionKind{steps.Retry, steps.Override, steps.Abort}}
	a = answers{"s": {Override: "fine"}}.decider()
	if d, ok := a.Decide(p); !ok || d.Kind != steps.Override || d.Reason != "fine" || d.Via != "runfile" {
		t.Errorf("first answer: %+v %v", d, ok)
	}
	if _, ok := a.Decide(p); ok {
		t.Error("the same question was answered twice")
	}
	// Unknown outcomes: accept only where it is offered.
	unknown := &steps.Prompt{Step: "u", Kind: steps.AskUnknown, On: steps.OnUnknown, Choices: []steps.DecisionKind{steps.Override, steps.Rerun, steps.Abort}}
	if _, ok := (answers{"u": {Unknown: "accept"}}).decider().Decide(unknown); ok {
		t.Error("accept was given although the prompt does not offer it")
	}
	if d, ok := (answers{"u": {Unknown: "rerun"}}).decider().Decide(unknown); !ok || d.Kind != steps.Rerun {
		t.Errorf("rerun: %+v %v", d, ok)
	}
	unknown.Choices = []steps.DecisionKind{steps.Accept, steps.Rerun, steps.Abort}
	if d, ok := (answers{"u": {Unknown: "accept"}}).decider().Decide(unknown); !ok || d.Kind != steps.Accept {
		t.Errorf("accept: %+v %v", d, ok)
	}
	// Skip only where it is offered; otherwise a confirm answer is used.
	confirm := &steps.Prompt{Step: "c", Kind: steps.AskConfirm, On: steps.OnConfirm, Choices: []steps.DecisionKind{steps.Confirm, steps.Abort}}
	if _, ok := (answers{"c": {Skip: "later"}}).decider().Decide(confirm); ok {
		t.Error("a skip was given for a step that cannot be skipped")
	}
	if _, ok := (answers{"x": {Confirm: true}}).decider().Decide(confirm); ok {
		t.Error("an answer for another step was used")
	}
}

func TestPrinter(t *testing.T) {
	var out bytes.Buffer
	p := &headless.Printer{W: &out, Journal: "/j/run.jsonl"}
	// The marker appears while the gate waits, on its third attempt.
	var dir string
	waits := 0
	obs := progressHook{p, func(pr steps.Progress) {
		if pr.Last != nil {
			waits++
			if waits == 3 {
				os.WriteFile(filepath.Join(dir, "marker"), nil, 0o644)
			}
		}
	}}
	e2, dir := engine(t, `  - id: s
    title: S
    action:
      run: {role: a, command: "echo first line; echo second line"}
    gates:
      - name: the marker appears
        file_exists: {role: a, path: marker}
        wait: {timeout: 1m, every: 10ms}
`, obs, nil)
	res := headless.Drive(context.Background(), e2, nil, "J")
	if res.Code != headless.ExitDone {
		t.Fatalf("code %d: %s", res.Code, res.Message)
	}
	s := out.String()
	for _, want := range []string{"session", "/j/run.jsonl", "plan      s                    S [h1]", "action    s                    run a command on h1",
		"$ echo first line; echo second line", "result    s                    ok in", "waiting up to", "gate      s                    PASS  the marker appears",
		"end       s                    done", "run                            done: every step is done"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "waiting up to"); n != 1 {
		t.Errorf("not verbose: the wait is noted %d times, want once", n)
	}
	if strings.Contains(s, "first line") && !strings.Contains(s, "$ echo first line") {
		t.Error("command output is printed without -v")
	}

	// Verbose prints output lines and every wait; JSON prints one object per event.
	var vout, jout bytes.Buffer
	vp := &headless.Printer{W: &vout, Verbose: true}
	vp.Progress(steps.Progress{Step: "s", Host: "h1", Line: "first line"})
	if !strings.Contains(vout.String(), "| h1: first line") {
		t.Errorf("verbose output: %q", vout.String())
	}
	jp := &headless.Printer{W: &jout, JSON: true}
	jp.Event(&steps.Event{Seq: 3, Type: steps.EvStepStart, Step: "s", Time: time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)})
	jp.Progress(steps.Progress{Step: "s", Line: "not in JSON"})
	var ev steps.Event
	if err := json.Unmarshal(jout.Bytes(), &ev); err != nil || ev.Seq != 3 || ev.Type != steps.EvStepStart {
		t.Errorf("JSON line %q: %v", jout.String(), err)
	}
	if strings.Count(jout.String(), "\n") != 1 {
		t.Errorf("JSON mode printed %q", jout.String())
	}
}

type progressHook struct {
	*headless.Printer
	f func(steps.Progress)
}

func (h progressHook) Progress(p steps.Progress) {
	h.Printer.Progress(p)
	h.f(p)
}

func TestFormatEvent(t *testing.T) {
	at := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	exit := 2
	tests := []struct {
		ev   *steps.Event
		want []string
	}{
		{&steps.Event{Time: at, Type: steps.EvCheck, Step: "s", Check: &steps.CheckResult{Phase: "gate", Name: "log is clean", Status: steps.Fail,
			Summary: "2 lines match", Evidence: []string{"line 3: ERROR x", "line 4: ERROR y"}}},
			[]string{"04:05:06  gate      s                    FAIL  log is clean: 2 lines match", "          | line 3: ERROR x", "          | line 4: ERROR y"}},
		{&steps.Event{Time: at, Type: steps.EvCheck, Step: "s", Check: &steps.CheckResult{Phase: "pre", Status: steps.Pass, Summary: "ok", Evidence: []string{"hidden"}}},
			[]string{"04:05:06  pre-check s                    PASS  ok"}},
		{&steps.Event{Time: at, Type: steps.EvCheck, Step: "s", Check: &steps.CheckResult{Phase: "pre", Name: "same hardware", Status: steps.Warn, Summary: "processors differ", Evidence: []string{"lm1: 4", "lm2: 2"}}},
			[]string{"04:05:06  pre-check s                    WARN  same hardware: processors differ", "          | lm1: 4", "          | lm2: 2"}},
		{&steps.Event{Time: at, Type: steps.EvActionResult, Step: "s", Action: &steps.ActionRecord{OK: false, Error: "h1: exit code 2", ExitCode: &exit, Output: []string{"h1: boom"}}},
			[]string{"04:05:06  result    s                    FAILED: h1: exit code 2", "          | h1: boom"}},
		{&steps.Event{Time: at, Type: steps.EvActionResult, Step: "s", Action: &steps.ActionRecord{OK: true, Files: 3, Bytes: 10, Elapsed: steps.Millis(1500 * time.Millisecond), Changes: []string{"a -> b"}}},
			[]string{"04:05:06  result    s                    ok in 1.5s (3 files, 10 B, verified)", "          | a -> b"}},
		{&steps.Event{Time: at, Type: steps.EvDecision, Step: "s", Decision: &steps.Decision{Kind: steps.Confirm, Run: &steps.AnswerRun{Role: "old", Command: "setup remove"}, Via: "runfile"}},
			[]string{"04:05:06  decision  s                    confirm (performed by `setup remove` on old) [runfile]"}},
		{&steps.Event{Time: at, Type: steps.EvDecision, Step: "s", Decision: &steps.Decision{Kind: steps.Override, Reason: "checked by hand"}},
			[]string{"04:05:06  decision  s                    override: checked by hand"}},
		{&steps.Event{Time: at, Type: steps.EvStepEnd, Step: "s", Status: string(steps.StepSkipped), Message: "not needed"},
			[]string{"04:05:06  end       s                    skipped: not needed"}},
		{&steps.Event{Time: at, Type: steps.EvPlan, Plan: []steps.PlannedStep{{ID: "a", Title: "A", Hosts: []string{"h1", "h2"}}, {ID: "b", Skip: true, Reason: "why not"}}},
			[]string{"04:05:06  plan      a                    A [h1, h2]", "04:05:06  plan      b                    skip: why not"}},
		{&steps.Event{Time: at, Type: steps.EvPlan, Plan: []steps.PlannedStep{{ID: "a", Title: "A"}, {ID: "b", Title: "B"}}, Message: "planned again with the new facts: now run b"},
			[]string{"04:05:06  plan                           planned again with the new facts: now run b"}},
	}
	for _, tc := range tests {
		got := headless.FormatEvent(tc.ev)
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("FormatEvent(%s):\n%s\nwant\n%s", tc.ev.Type, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

// terminalSafe fails t when out holds anything a terminal would act on: a control
// character other than the line ends and tabs, a C1 control, a bidirectional control,
// bytes that are not UTF-8.
func terminalSafe(t *testing.T, what, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("%s is not UTF-8: %q", what, out)
	}
	for i, r := range out {
		if r < 0x20 && r != '\n' && r != '\t' || r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			t.Errorf("%s: raw %U at byte %d: %q", what, r, i, out[max(0, i-20):min(len(out), i+20)])
			return
		}
	}
}

// TestHostileHostOutput: a command whose output and a log folder whose file names carry
// escape sequences, carriage returns and newlines. The text printer shows each as a
// visible escape, no line of output starts where the host wanted one to, and the JSON
// printer writes safe bytes that decode to exactly what the host sent.
func TestHostileHostOutput(t *testing.T) {
	var verbose, jsonOut bytes.Buffer
	obs := both{&headless.Printer{W: &verbose, Verbose: true}, &headless.Printer{W: &jsonOut, JSON: true}}
	e, dir := engine(t, `  - id: s
    title: S
    action:
      run: {role: a, command: "printf 'title\\033]0;pwned\\007\\nclear\\033[2J\\nok\\rFORGED\\n\\342\\200\\256evil\\n'; exit 3"}
  - id: logs
    title: Logs
    gates:
      - newest_file: {role: a, path: "logs/*.log", contains: [never there]}
`, obs, nil)
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	name := "backup\n12:00:00  end       s                    done\r\x1b[2K.log"
	if err := os.WriteFile(filepath.Join(dir, "logs", name), []byte("ok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := headless.Drive(context.Background(), e, answers{"s": {Override: "the output is the test"}}.decider(), "J")
	if res.Code != headless.ExitNeedsOp {
		t.Fatalf("code %d: %s", res.Code, res.Message)
	}
	for what, out := range map[string]string{"text": verbose.String(), "json": jsonOut.String(), "message": res.Message} {
		terminalSafe(t, what, out)
	}
	text := verbose.String()
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		// Every line is the printer's: a time stamp, or the indent of evidence and
		// commands. None is the file name's "12:00:00  end" or the output's FORGED.
		if !strings.HasPrefix(l, "          ") && !(len(l) > 10 && l[2] == ':' && l[5] == ':') || strings.HasPrefix(l, "12:00:00") || strings.HasPrefix(l, "FORGED") {
			t.Errorf("a line the host wrote: %q\n%s", l, text)
		}
	}
	for _, want := range []string{`title\x1b]0;pwned\a`, `clear\x1b[2J`, `ok\rFORGED`, `\u202eevil`} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(text, `backup\n12:00:00  end       s                    done\r\x1b[2K.log`) {
		t.Errorf("the file name is not shown, escaped, on one line:\n%s", text)
	}
	if !strings.Contains(res.Message, `backup\n12:00:00`) {
		t.Errorf("the message does not quote the file name escaped: %s", res.Message)
	}
	// The JSON lines hold exactly what the host sent.
	found := false
	for _, l := range strings.Split(strings.TrimSpace(jsonOut.String()), "\n") {
		var ev steps.Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("not JSON: %v: %s", err, l)
		}
		if ev.Type == steps.EvActionResult && slices.Contains(ev.Action.Output, "h1: ok\rFORGED") && slices.Contains(ev.Action.Output, "h1: \u202eevil") {
			found = true
		}
	}
	if !found {
		t.Errorf("the JSON output does not carry the host's output as sent:\n%s", jsonOut.String())
	}
}

// both prints every event with two printers.
type both struct{ a, b *headless.Printer }

func (x both) Event(ev *steps.Event)      { x.a.Event(ev); x.b.Event(ev) }
func (x both) Progress(pr steps.Progress) { x.a.Progress(pr); x.b.Progress(pr) }
