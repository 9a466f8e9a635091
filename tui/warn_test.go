package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/steps"
)

// TestAdviceWarningIsNotAFailure: a check that only advises shows its warning in amber
// with a ! and its evidence, not as a failure with ✗, on the step screen and on the
// step's evidence page.
func TestAdviceWarningIsNotAFailure(t *testing.T) {
	r, rp := benchRunPage(t, 0)
	rp.event(&steps.Event{Seq: rp.state.LastSeq + 1, Time: time.Now(), Type: steps.EvCheck, Step: "install-fresh",
		Check: &steps.CheckResult{Phase: steps.PhasePre, Index: 0, Status: steps.Warn, Summary: "processors differ: 4 on lm1; 2 on lm2",
			Evidence: []string{"lm1: 4 processors, 8.0 GiB", "lm2: 2 processors, 4.0 GiB"}}})
	v := stripANSI(r.View().Content)
	for _, want := range []string{"! pre-check The Hub is not installed", "warn: processors differ: 4 on lm1; 2 on lm2", "e shows the evidence in full"} {
		if !strings.Contains(v, want) {
			t.Errorf("the step screen lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "✗ pre-check") {
		t.Errorf("the warning is drawn as a failure:\n%s", v)
	}
	_, cmd := r.Update(keyMsg("e"))
	r.Update(cmd())
	if v := stripANSI(r.View().Content); !strings.Contains(v, "! pre-check 1:") || !strings.Contains(v, "warn at ") || !strings.Contains(v, "│ lm2: 2 processors, 4.0 GiB") {
		t.Errorf("the evidence page does not mark the warning with !:\n%s", v)
	}
}

// TestPlanReviewShowsAdviceWarnings: the plan review lists a pre-check that warns now,
// as advice that does not stop the run, beside those that fail.
func TestPlanReviewShowsAdviceWarnings(t *testing.T) {
	_, rp := benchRunPage(t, 0)
	pp := &planPage{a: rp.a, plan: rp.plan, sv: newScrollView(false), pv: &steps.Preview{Steps: []steps.StepPreview{{ID: "install-fresh",
		Pre: []*steps.CheckResult{
			{Name: "Same hardware", Status: steps.Warn, Summary: "processors differ"},
			{Name: "Passes", Status: steps.Pass, Summary: "fine"},
			{Name: "Port free", Status: steps.Fail, Summary: "8100 is taken"},
		}}}}}
	got := strings.Join(pp.changeLines("install-fresh", 100, "  "), "\n")
	got = stripANSI(got)
	for _, want := range []string{"warns now (advice; it does not stop the run): Same hardware: processors differ", "fails now: Port free: 8100 is taken"} {
		if !strings.Contains(got, want) {
			t.Errorf("the plan review's lines lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Passes") {
		t.Errorf("a passing pre-check is listed:\n%s", got)
	}
}
