package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/steps/runner"
)

// verifyReport is what replay --verify-only found, as --json prints it.
type verifyReport struct {
	Runbook string `json:"runbook"`
	RunID   string `json:"run_id"`
	// Held of Checked end-state gates still hold; LeftOut counts the gates that hold
	// only during a run and were not checked.
	Held    int          `json:"held"`
	Checked int          `json:"checked"`
	LeftOut int          `json:"left_out"`
	Gates   []verifyGate `json:"gates"`
	// Exit is the exit code the command ends with.
	Exit int `json:"exit"`
}

// verifyGate is one gate of a recorded step, checked again or left out (NotChecked).
type verifyGate struct {
	Step     string   `json:"step"`
	Gate     string   `json:"gate,omitempty"`
	Status   string   `json:"status,omitempty"`
	Summary  string   `json:"summary,omitempty"`
	Recorded string   `json:"recorded,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
	// NotChecked says why the gate (or the whole step's gates) was not checked.
	NotChecked  string `json:"not_checked,omitempty"`
	Unreachable bool   `json:"unreachable,omitempty"`
}

// verifyOnlyReplay checks the end-state gates of the recorded steps against the hosts as
// they are, runs nothing that changes them and writes no journal (only the JUnit report
// when asked for). Exit 0 when every gate still holds, 1 when one does not, 4 when a
// host cannot be reached.
func verifyOnlyReplay(ctx context.Context, e *env, rf *runFlags, j *journal.Journal, rb *steps.Runbook,
	lookup steps.HostLookup, roles, secrets pairs, allowChanged bool, inv *inventory.Inventory, junit string) error {
	events, err := rebindSession(j.Events, roles)
	if err != nil {
		return err
	}
	opts := steps.Options{Secrets: secrets, AllowChanged: allowChanged}
	plan, st, err := steps.Restore(events, rb, lookup, opts)
	if err != nil {
		return err
	}
	roleNames := map[string]string{}
	for r, h := range plan.Roles {
		roleNames[r] = h.Name
	}
	// A fresh probe: the gates judge the hosts with today's facts (clock offsets).
	pool := probe.NewPool(headlessDialer(e, rf))
	defer pool.Close()
	facts, err := (&runner.Config{Inventory: inv}).ProbeRoles(ctx, pool, roleNames, rb)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return explainStart(e, err)
	}
	reps, err := steps.VerifyGates(ctx, events, rb, lookup, pool, facts, opts)
	if err != nil {
		return err
	}
	rep := newVerifyReport(rb, st.Session.RunID, reps)
	if junit != "" {
		if err := writeJUnit(junit, rep); err != nil {
			return err
		}
	}
	if rf.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printVerify(e, rep)
	}
	if rep.Exit != 0 {
		return quiet{rep.Exit}
	}
	return nil
}

// rebindSession returns events whose session binds roles to other hosts, in a copy:
// the recording itself is not touched.
func rebindSession(events []*steps.Event, roles pairs) ([]*steps.Event, error) {
	if len(roles) == 0 {
		return events, nil
	}
	events = append([]*steps.Event(nil), events...)
	for i, ev := range events {
		if ev.Type != steps.EvSession || ev.Session == nil {
			continue
		}
		cp := *ev
		sess := *ev.Session
		sess.Roles = map[string]string{}
		for r, h := range ev.Session.Roles {
			sess.Roles[r] = h
		}
		for r, h := range roles {
			if _, ok := sess.Roles[r]; !ok {
				return nil, bad("--role %s: the recorded run has no role %s", r, r)
			}
			sess.Roles[r] = h
		}
		cp.Session = &sess
		events[i] = &cp
	}
	return events, nil
}

// newVerifyReport counts the gates and chooses the exit code.
func newVerifyReport(rb *steps.Runbook, runID string, reps []steps.GateReport) *verifyReport {
	rep := &verifyReport{Runbook: rb.ID, RunID: runID, Gates: []verifyGate{}}
	unreachable := false
	for _, r := range reps {
		g := verifyGate{Step: r.Step, Gate: r.Gate, Recorded: string(r.Recorded)}
		if r.Result == nil {
			g.NotChecked = r.Why
			if r.Gate != "" {
				rep.LeftOut++
			}
			rep.Gates = append(rep.Gates, g)
			continue
		}
		rep.Checked++
		if r.Result.OK() {
			rep.Held++
		}
		g.Gate, g.Status, g.Summary, g.Unreachable = r.Result.Name, string(r.Result.Status), r.Result.Summary, r.Result.Unreachable
		if !r.Result.OK() {
			g.Evidence = r.Result.Evidence
		}
		unreachable = unreachable || r.Result.Unreachable
		rep.Gates = append(rep.Gates, g)
	}
	switch {
	case rep.Held == rep.Checked:
	case unreachable:
		rep.Exit = headless.ExitUnreachable
	default:
		rep.Exit = headless.ExitNeedsOp
	}
	return rep
}

func printVerify(e *env, rep *verifyReport) {
	for _, g := range rep.Gates {
		switch {
		case g.NotChecked != "" && g.Gate != "":
			fmt.Fprintln(e.stdout, hosttext.Line(fmt.Sprintf("-     %-20s %s: not checked, %s", g.Step, g.Gate, g.NotChecked)))
			continue
		case g.NotChecked != "":
			fmt.Fprintf(e.stdout, "-     %-20s not checked: %s\n", g.Step, hosttext.Line(g.NotChecked))
			continue
		}
		recorded := ""
		if g.Recorded != "" {
			recorded = fmt.Sprintf(" (recorded: %s)", g.Recorded)
		}
		fmt.Fprintln(e.stdout, hosttext.Line(fmt.Sprintf("%-5s %-20s %s: %s%s", strings.ToUpper(g.Status), g.Step, g.Gate, g.Summary, recorded)))
		for _, l := range g.Evidence {
			fmt.Fprintf(e.stdout, "          | %s\n", hosttext.Line(l))
		}
	}
	leftOut := ""
	if rep.LeftOut > 0 {
		leftOut = fmt.Sprintf("; %d that hold only during a run left out", rep.LeftOut)
	}
	fmt.Fprintf(e.stdout, "verify-only: %d of %d end-state gates of the recorded steps still hold%s (nothing was changed, no journal written)\n", rep.Held, rep.Checked, leftOut)
	switch rep.Exit {
	case headless.ExitUnreachable:
		fmt.Fprintf(e.stderr, "cutover: a host could not be reached: %d gates could not be checked\n", rep.Checked-rep.Held)
	case headless.ExitNeedsOp:
		fmt.Fprintf(e.stderr, "cutover: %d of %d gates no longer hold\n", rep.Checked-rep.Held, rep.Checked)
	}
}

// JUnit XML, as Jenkins, GitLab and most monitoring systems read it: one test suite for
// the run, one test case per gate; a gate that no longer holds is a failure, one that
// could not be checked an error, one left out skipped.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Class   string        `xml:"classname,attr"`
	Name    string        `xml:"name,attr"`
	Failure *junitProblem `xml:"failure,omitempty"`
	Error   *junitProblem `xml:"error,omitempty"`
	Skipped *junitProblem `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes rep as JUnit XML to path, whole or not at all (a temporary file
// renamed into place). Host text is neutralised as on a terminal; XML escaping does
// the rest.
func writeJUnit(path string, rep *verifyReport) error {
	suite := junitSuite{Name: "cutover verify-only " + rep.Runbook + " (run " + rep.RunID + ")"}
	for _, g := range rep.Gates {
		name := g.Gate
		if name == "" {
			name = "gates"
		}
		c := junitCase{Class: rep.Runbook + "." + g.Step, Name: hosttext.Line(name)}
		switch {
		case g.NotChecked != "":
			c.Skipped = &junitProblem{Message: hosttext.Line(g.NotChecked)}
			suite.Skipped++
		case g.Unreachable:
			c.Error = &junitProblem{Message: hosttext.Line(g.Summary), Text: hosttext.Text(strings.Join(g.Evidence, "\n"))}
			suite.Errors++
		case g.Status != string(steps.Pass) && g.Status != string(steps.Skipped) && g.Status != string(steps.Warn): // a warning is advice: the gate holds
			c.Failure = &junitProblem{Message: hosttext.Line(g.Summary), Text: hosttext.Text(strings.Join(g.Evidence, "\n"))}
			suite.Failures++
		}
		suite.Tests++
		suite.Cases = append(suite.Cases, c)
	}
	data, err := xml.MarshalIndent(junitSuites{Suites: []junitSuite{suite}}, "", "  ")
	if err != nil {
		return err
	}
	data = append([]byte(xml.Header), append(data, '\n')...)
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return bad("--junit %s: %v", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
