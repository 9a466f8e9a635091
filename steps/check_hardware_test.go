package steps

import (
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
)

// hardwareExec plans a step whose pre-check compares the hardware of a and b, with the
// facts given, and returns the step's view and its pre-check.
func hardwareExec(t *testing.T, advice bool, facts map[string]*probe.Facts) (*stepExec, *Check) {
	t.Helper()
	extra := ""
	if advice {
		extra = "\n        advice: true"
	}
	rb := testRunbook(t, `  - id: s
    title: hardware
    pre:
      - name: alike hardware`+extra+`
        same_hardware: {roles: [a, b]}
`)
	lookup := func(n string) *probe.Host { return &probe.Host{Name: n, Address: n + ".example"} }
	plan, err := Prepare(rb, lookup, Inputs{Roles: map[string]string{"a": "h1", "b": "h2", "c": "h3"}}, facts)
	if err != nil {
		t.Fatal(err)
	}
	x := plan.exec(rb.Step("s"))
	return x, x.step.Pre[0]
}

func hw(cpus int, memory int64) *probe.Facts {
	return &probe.Facts{Reachable: true, CPUs: cpus, Memory: memory}
}

// TestSameHardware: processors must match; memory may differ by up to 5% of the
// largest (the same modules, kept differently by firmware and kernel).
func TestSameHardware(t *testing.T) {
	const g = int64(1) << 30
	for _, tc := range []struct {
		name   string
		a, b   *probe.Facts
		status Status
		has    []string
	}{
		{"alike", hw(4, 8*g), hw(4, 8*g), Pass, []string{"alike: 4 processors and 8.0 GiB of memory on each of h1, h2"}},
		{"memory within 5%", hw(4, 8*g), hw(4, 8*g-8*g/25), Pass, []string{"alike"}},
		{"fewer processors", hw(4, 8*g), hw(2, 8*g), Fail, []string{"processors differ: 4 processors on h1; 2 processors on h2"}},
		{"less memory", hw(4, 8*g), hw(4, 4*g), Fail, []string{"memory differs by more than 5%: 8.0 GiB on h1; 4.0 GiB on h2"}},
		{"not reported", hw(4, 8*g), hw(0, 0), Fail, []string{"cannot compare: h2 did not report processors and memory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			facts := map[string]*probe.Facts{"h1": tc.a, "h2": tc.b, "h3": hw(1, g)}
			x, ch := hardwareExec(t, false, facts)
			r := ch.Spec.eval(context.Background(), x)
			wantStatus(t, r, tc.status, tc.has...)
			evidenceHas(t, r, "h1: "+processors(tc.a.CPUs)+", "+gib(tc.a.Memory)+" of memory")
		})
	}
	x, ch := hardwareExec(t, false, map[string]*probe.Facts{"h1": hw(4, 8*g)})
	wantStatus(t, ch.Spec.eval(context.Background(), x), Error, "no probe facts for h2")
	if d := ch.Spec.describe(x); d != "h1, h2 have the same number of processors and memory within 5%" {
		t.Errorf("describe: %q", d)
	}
}

// TestAdviceWarns: a check marked advice that fails is a warning, which lets the step
// go on (OK) and is journaled as warn; one that passes stays a pass, and an error (the
// facts are missing) stays an error, since it says nothing about the advice.
func TestAdviceWarns(t *testing.T) {
	const g = int64(1) << 30
	eval := func(facts map[string]*probe.Facts) *CheckResult {
		x, ch := hardwareExec(t, true, facts)
		return x.evaluate(context.Background(), evaluation{check: ch, phase: PhasePre})
	}
	r := eval(map[string]*probe.Facts{"h1": hw(4, 8*g), "h2": hw(2, 4*g)})
	if r.Status != Warn || !r.OK() || !strings.Contains(r.Summary, "processors differ") {
		t.Errorf("a failed advice: status %s, OK %v, summary %q", r.Status, r.OK(), r.Summary)
	}
	if r := eval(map[string]*probe.Facts{"h1": hw(4, 8*g), "h2": hw(4, 8*g)}); r.Status != Pass {
		t.Errorf("a passed advice: status %s", r.Status)
	}
	if r := eval(map[string]*probe.Facts{"h1": hw(4, 8*g)}); r.Status != Error || r.OK() {
		t.Errorf("an advice that cannot tell: status %s, OK %v", r.Status, r.OK())
	}
}

// TestAdviceAndHardwareLoadErrors: an advice never waits, and a comparison needs two
// roles.
func TestAdviceAndHardwareLoadErrors(t *testing.T) {
	for src, want := range map[string]string{
		`      - advice: true
        wait: {timeout: 1m}
        same_hardware: {roles: [a, b]}
`: "an advice check is looked at once and only warns: drop wait",
		`      - same_hardware: {roles: [a]}
`: "roles: name at least two roles to compare",
		`      - advise: true
        same_hardware: {roles: [a, b]}
`: `unknown check "advise"`,
	} {
		_, err := Parse("unit.yaml", []byte(testRunbookText("  - id: s\n    title: t\n    gates:\n"+src)))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
	}
}

// TestReachPortsFromParameters: reach takes its ports as numbers or templates; each
// rendered port is checked and listed once, and a written port outside 1-65535 or not
// a number is refused when the runbook loads.
func TestReachPortsFromParameters(t *testing.T) {
	rb := testRunbook(t, `  - id: s
    title: reach
    gates:
      - reach: {from: [a], to: [b], ports: [25, "{{ params.word == 'hello' ? 8100 : 80 }}", "25"]}
      - reach: {from: [a], to: [b], ports: ["{{ params.word }}"]}
`)
	f := newFixture(t, "h1", "h2", "h3")
	x := f.exec(rb, "s", nil, nil)
	if d := rb.Step("s").Gates[0].Spec.describe(x); !strings.HasSuffix(d, "on ports 25, 8100") {
		t.Errorf("describe: %q", d)
	}
	if got, err := rb.Step("s").Gates[0].Spec.(*ReachCheck).ports(x); err != nil || len(got) != 2 || got[0] != 25 || got[1] != 8100 {
		t.Errorf("ports: %v, %v", got, err)
	}
	wantStatus(t, evalGate(t, x, 1), Error, `port "hello" is not a number from 1 to 65535`)
	for port, want := range map[string]string{"0": `port "0" is not a number`, "http": `port "http" is not a number`, `""`: "an empty port"} {
		_, err := Parse("unit.yaml", []byte(testRunbookText("  - id: s\n    title: t\n    gates:\n      - reach: {from: [a], to: [b], ports: ["+port+"]}\n")))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ports [%s]: error %v, want %q", port, err, want)
		}
	}
}
