package tui

import (
	"fmt"
	"strings"

	"github.com/cutover/cutover/steps"
)

// hostsLeft says in what state a run leaves its hosts if it stops now, for the quit
// and abort questions: what was done to them (the actions that ran, the manual steps
// confirmed), where the current step stands, and that stopping undoes nothing.
func hostsLeft(st *steps.RunState, cur *steps.StepState, busy bool) string {
	return hostsLeftNaming(st, cur, busy, 3)
}

// hostsLeftNaming is hostsLeft naming at most the last n things done (none for 0), for
// a question that has fewer rows than the full account needs.
func hostsLeftNaming(st *steps.RunState, cur *steps.StepState, busy bool, n int) string {
	var did []string
	done, skipped := 0, 0
	for _, ss := range st.Steps {
		if ss == cur {
			break
		}
		switch ss.Status {
		case steps.StepSkipped:
			skipped++
			continue
		case steps.StepDone, steps.StepOverridden:
			done++
		default:
			continue
		}
		switch {
		case ss.Action != nil && ss.ActionDone:
			did = append(did, sanitize(ss.Action.Summary))
		case ss.Confirmed:
			did = append(did, "by hand: "+sanitize(ss.Planned.Title))
		}
	}
	var b strings.Builder
	switch {
	case done == 0:
		b.WriteString("No step has finished yet")
	default:
		fmt.Fprintf(&b, "%d of %d steps finished", done+skipped, len(st.Steps))
		if len(did) > 0 && n > 0 {
			shown := did[max(len(did)-n, 0):]
			b.WriteString(" (")
			if len(did) > len(shown) {
				fmt.Fprintf(&b, "%d more, then ", len(did)-len(shown))
			}
			b.WriteString(strings.Join(shown, "; ") + ")")
		}
	}
	if skipped > 0 {
		fmt.Fprintf(&b, ", %d of them skipped", skipped)
	}
	b.WriteString(". ")
	if cur != nil && !cur.Finished() {
		fmt.Fprintf(&b, "Step %d, «%s»: %s. ", stepNumber(st, cur.ID()), sanitize(cur.Planned.Title), stepStands(cur, busy))
	}
	if rest := notStarted(st, cur); rest > 0 {
		fmt.Fprintf(&b, "Not started: %d. ", rest)
	}
	b.WriteString("Nothing is undone: the hosts stay as they are now.")
	return b.String()
}

// stepStands says where the current step stands on its hosts.
func stepStands(cur *steps.StepState, busy bool) string {
	switch {
	case cur.ActionPending && busy:
		return "its action is running and finishes first"
	case cur.ActionPending:
		return "its action started and its outcome is unknown"
	case cur.ActionDone && cur.Action != nil && cur.Action.OK:
		return "its action ran (" + sanitize(cur.Action.Summary) + ")"
	case cur.ActionDone && cur.Action != nil:
		return "its action failed (" + sanitize(cur.Action.Error) + ")"
	case cur.Confirmed:
		return "you confirmed it was done by hand"
	case cur.Status == steps.StepRunning:
		return "nothing of it has been done yet"
	}
	return "not started"
}

// stepNumber is step id's place in the run, from 1 (0 when it has no such step).
func stepNumber(st *steps.RunState, id string) int {
	for i, s := range st.Steps {
		if s.ID() == id {
			return i + 1
		}
	}
	return 0
}

func notStarted(st *steps.RunState, cur *steps.StepState) int {
	n := 0
	for _, s := range st.Steps {
		if s != cur && s.Status == steps.StepPending {
			n++
		}
	}
	return n
}
