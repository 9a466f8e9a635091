package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
)

// Every shipped runbook through the real program in a real terminal, in the lab
// situation it is for: from the home screen through the setup, the plan and every step
// to the summary and the exported checklist, by keys alone, as an operator at an SSH
// console would. The lab's run file says how the roles are bound and what performs each
// manual step in the lab; the wizard shows those commands as the lab's hints, and the
// driver takes them with c. What the run did is then checked on the lab's hosts.

// wizardCase is one runbook in its lab situation.
type wizardCase struct {
	runbook, scenario string
	faults            []string
	// preset is chosen on the preset screen ("" for the runbook's defaults).
	preset string
	// offer starts the wizard without an inventory: it offers the practice lab, which
	// it serves itself (the operator's first night).
	offer bool
	// down is a host that does not answer (the failover's primary): home shows it
	// unreachable, and the setup binds it to its role as down.
	down string
	// hosts checks the end state on the lab's hosts.
	hosts func(t *testing.T, l *testLab)
}

// stepAt reads the current step's number and whether it waits for the operator.
var (
	stepAt  = regexp.MustCompile(`── Step (\d+) of (\d+) `)
	roleRow = regexp.MustCompile(`(?m)^([> ]) (\S+) +(\S+) (✓|↓|✗)?`)
)

// driveRunbook runs c's runbook in its lab through the wizard at 80x24, by keys, and
// checks the run, the journal, the exported checklist and the hosts.
func driveRunbook(t *testing.T, c wizardCase) {
	t.Parallel()
	bin := buildCutover(t)
	rb, err := runbooks.Get(c.runbook)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := wizardEnv(t)
	jdir := t.TempDir()
	args := []string{"--journal-dir", jdir}
	labDir, stopLab := filepath.Join(t.TempDir(), "lab"), func() {}
	if c.offer {
		args = append(args, "--lab-dir", labDir)
	} else {
		labDir, stopLab = labProcess(t, bin, c.scenario, c.faults...)
		args = append(args, "-i", filepath.Join(labDir, "inventory.yaml"))
	}
	tm := startTmux(t, 80, 24, t.TempDir(), env, append([]string{bin}, args...)...)
	if c.offer {
		tm.waitFor("No inventory found", "Start the practice lab?")
		tm.keys("y")
	}

	// Home: the lab's hosts, probed; the runbook found by typing its id.
	home := tm.waitFor("[practice lab]", "probed at")
	if c.down != "" && !regexp.MustCompile(`✗ `+regexp.QuoteMeta(c.down)+` +unreachable`).MatchString(home) {
		t.Fatalf("home does not show %s unreachable:\n%s", c.down, home)
	}
	rf, err := steps.LoadRunFile(filepath.Join(labDir, "runs", probe.Slug(c.runbook)+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tm.text(c.runbook)
	tm.waitFor("> " + c.runbook + " ")
	tm.keys("Enter")

	// Setup: every role bound by keys, as the lab's run binds it (a role cutover bound by
	// itself is checked, not bound again).
	tm.waitFor("Bind each role to a host", "practice lab: its run binds")
	for _, r := range rb.Roles {
		tm.bindRole(r.ID, rf.Roles[r.ID])
	}
	if c.down != "" {
		tm.waitFor(c.down + " ↓ down")
	}
	tm.keys("n")
	if len(rb.Presets) > 0 {
		tm.waitFor("Start from a preset?")
		tm.choosePreset(c.preset)
	}
	// The form: the lab's values are filled in; enter on the last field reviews the plan.
	tm.waitFor("the practice lab's values filled in")
	for range len(rb.Params) - 1 {
		tm.keys("Tab")
	}
	tm.keys("Enter")
	s := tm.waitFor("plan review", "Nothing has run")
	if strings.Contains(s, "(choose)") {
		t.Fatalf("a role is unbound on the plan review:\n%s", s)
	}
	tm.keys("s")

	// Every step, as the lab's run answers it.
	done := tm.driveSteps(rb, rf)

	// The summary, the checklist, the exit.
	if !strings.Contains(done, "The run is done") {
		t.Fatalf("the run did not end done:\n%s", done)
	}
	tm.keys("x")
	tm.waitFor("Checklist written to")
	tm.keys("q")
	if code := tm.exited(); code != 0 {
		t.Fatalf("exit %d; the screen:\n%s", code, tm.scrollback())
	}
	jpath := singleJournal(t, jdir)
	st := readState(t, jpath)
	if !st.Ended || st.Outcome != steps.RunDone {
		t.Fatalf("the run ended %v with %q", st.Ended, st.Outcome)
	}
	for _, ss := range st.Steps {
		for _, d := range ss.Decisions {
			if d.Via != "tty" {
				t.Errorf("step %s: a decision came from %q, not the terminal", ss.ID(), d.Via)
			}
			if d.Kind == steps.Override {
				t.Errorf("step %s was overridden: %s", ss.ID(), d.Reason)
			}
		}
	}
	md := strings.TrimSuffix(jpath, ".jsonl") + ".md"
	if data, err := os.ReadFile(md); err != nil || !strings.Contains(string(data), "- [x]") || strings.Contains(string(data), "- [ ] ") {
		t.Fatalf("the exported checklist %s: %v\n%s", md, err, data)
	}
	// The lab stops (the wizard's own stopped with it); served again, here, its hosts are
	// as the run left them.
	stopLab()
	sc, err := runbooks.Scenario(c.scenario, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.hosts(t, &testLab{Lab: labtest.ServeIn(t, labDir, sc, lab.Options{})})
}

// bindRole binds role to host on the setup screen, unless it is bound to it already:
// the cursor goes to the role's row, and bindTo picks host.
func (tm *tmuxTerm) bindRole(role, host string) {
	tm.t.Helper()
	for _, m := range roleRow.FindAllStringSubmatch(tm.screen(), -1) {
		if m[2] == role && m[3] == host && (m[4] == "✓" || m[4] == "↓") {
			return
		}
	}
	tm.moveCursor(roleRows, role)
	tm.bindTo(host)
}

// roleRows reads the setup's role list: the roles in order, and the one under the
// cursor.
func roleRows(screen string) (items []string, cur int) {
	cur = -1
	for _, m := range roleRow.FindAllStringSubmatch(screen, -1) {
		if m[2] == "cutover" {
			continue // the title bar
		}
		if m[1] == ">" {
			cur = len(items)
		}
		items = append(items, m[2])
	}
	return items, cur
}

// presetRow is a row of the preset screen: "> example-1-one-name: ...".
var presetRow = regexp.MustCompile(`(?m)^([> ]) ([^:\n]+):`)

// choosePreset moves the preset screen's cursor to preset ("" for none) and takes it.
func (tm *tmuxTerm) choosePreset(preset string) {
	tm.t.Helper()
	if preset == "" {
		preset = "no preset"
	}
	tm.moveCursor(func(s string) ([]string, int) {
		var items []string
		cur := -1
		for _, m := range presetRow.FindAllStringSubmatch(s, -1) {
			if m[1] == ">" {
				cur = len(items)
			}
			items = append(items, m[2])
		}
		return items, cur
	}, preset)
	tm.keys("Enter")
}

// driveSteps answers every question of the run as the lab's run file does, by keys,
// until the summary shows, and returns the summary's screen. A step that stops on a
// failed check or anything the run file does not answer fails the test.
func (tm *tmuxTerm) driveSteps(rb *steps.Runbook, rf *steps.RunFile) string {
	tm.t.Helper()
	for {
		s := tm.waitForAny("The run is done", "The run ended", "● waiting for you", "✗ blocked", "? outcome unknown", "? decide")
		if strings.Contains(s, "The run is done") || strings.Contains(s, "The run ended") {
			return s
		}
		m := stepAt.FindStringSubmatch(s)
		if m == nil || !strings.Contains(s, "● waiting for you") {
			tm.t.Fatalf("the run stopped where the lab's run does not:\n%s", s)
		}
		n, _ := strconv.Atoi(m[1])
		step := rb.Steps[n-1]
		ans := rf.Answers[step.ID]
		if ans == nil {
			tm.t.Fatalf("step %d (%s) asks, and the lab's run has no answer for it:\n%s", n, step.ID, s)
		}
		flat := strings.Join(strings.Fields(s), " ")
		switch {
		case ans.Run != nil:
			// The wizard shows the lab's command for the step; c starts from it.
			if hint := "practice lab: " + ans.Run.Role + ":"; !strings.Contains(flat, hint) {
				tm.t.Fatalf("step %s: no lab hint %q:\n%s", step.ID, hint, s)
			}
			tm.keys("c")
			tm.waitFor("ROLE: COMMAND ›")
			tm.keys("Enter")
		case ans.Skip != "":
			tm.keys("s")
			tm.waitFor("reason for skipping")
			tm.text(ans.Skip)
			tm.keys("Enter")
		default:
			tm.keys("Enter")
		}
		if ans.Phrase != "" {
			tm.waitFor("type exactly: " + ans.Phrase)
			tm.text(ans.Phrase)
			tm.keys("Enter")
		}
		// The answer is taken once the step no longer waits for it.
		tm.poll(func(s string) bool {
			m := stepAt.FindStringSubmatch(s)
			return m == nil || m[1] != strconv.Itoa(n) || !strings.Contains(s, "● waiting for you")
		}, "step "+step.ID+" to take its answer")
	}
}

// waitForAny polls the screen until it shows one of texts.
func (tm *tmuxTerm) waitForAny(texts ...string) string {
	tm.t.Helper()
	return tm.poll(func(s string) bool {
		for _, x := range texts {
			if strings.Contains(s, x) {
				return true
			}
		}
		return false
	}, strings.Join(texts, " | "))
}

// The tests, one per shipped runbook, named after it.

func TestWizardMaestroMoveHub(t *testing.T) {
	driveRunbook(t, wizardCase{runbook: "maestro/move-hub", scenario: "maestro", offer: true, hosts: movedHub})
}

func TestWizardMaestroMoveLUI(t *testing.T) {
	driveRunbook(t, wizardCase{runbook: "maestro/move-lui", scenario: "maestro", hosts: movedLUIInternal})
}

func TestWizardMaestroMoveTracker(t *testing.T) {
	driveRunbook(t, wizardCase{runbook: "maestro/move-tracker", scenario: "maestro", hosts: movedTrackerKeepingItsName})
}

func TestWizardMaestroMoveDatabase(t *testing.T) {
	driveRunbook(t, wizardCase{runbook: "maestro/move-database", scenario: "maestro", hosts: movedDatabase})
}

// TestWizardMaestroProxyAliases runs each of the manual's examples, chosen as a preset.
func TestWizardMaestroProxyAliases(t *testing.T) {
	t.Parallel()
	for _, c := range []wizardCase{
		{preset: "example-1-one-name", hosts: proxiedOneName},
		{preset: "example-2-three-names", hosts: proxiedThreeNames},
	} {
		t.Run(c.preset, func(t *testing.T) {
			c.runbook, c.scenario = "maestro/proxy-aliases", "maestro"
			driveRunbook(t, c)
		})
	}
}

func TestWizardMaestroHAPrepare(t *testing.T) {
	driveRunbook(t, wizardCase{runbook: "maestro/ha-prepare", scenario: "maestro-ha", hosts: standbyPrepared})
}

// TestWizardMaestroFailover starts from a primary that is down and does not answer:
// the situation a failover is for. Home shows it unreachable; the setup binds it to the
// role of the primary that failed, as down.
func TestWizardMaestroFailover(t *testing.T) {
	driveRunbook(t, wizardCase{runbook: "maestro/failover", scenario: "maestro-ha", faults: []string{"primary-down"},
		down: "primary", hosts: failedOverHosts})
}

// TestWizardMaestroFailback starts as a failover leaves the lab: the primary off and
// fenced, Maestro on the standby.
func TestWizardMaestroFailback(t *testing.T) {
	driveRunbook(t, wizardCase{runbook: "maestro/failback", scenario: "maestro-ha", faults: []string{"after-failover"},
		hosts: failedBackHosts})
}

func TestWizardListmanagerClusterNode(t *testing.T) {
	driveRunbook(t, wizardCase{runbook: "listmanager/cluster-node", scenario: "listmanager", hosts: clusterNodeJoined})
}

func TestWizardCommunigateCluster(t *testing.T) {
	driveRunbook(t, wizardCase{runbook: "communigate/cluster", scenario: "communigate", hosts: communigateClusterUnchanged})
}

func TestWizardMdaemonCluster(t *testing.T) {
	driveRunbook(t, wizardCase{runbook: "mdaemon/cluster", scenario: "mdaemon", hosts: mdaemonClustered})
}
