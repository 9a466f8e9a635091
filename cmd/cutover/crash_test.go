package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// The crash test: the real binary runs maestro/move-hub against the
// practice lab and is killed with SIGKILL at seeded random moments (after a random
// number of journal lines has appeared, plus a random delay of up to 20 ms, so kills
// land in the middle of actions as well as between events). Each killed run is resumed,
// and killed again if its plan says so, until it ends. An operator's judgement settles
// actions of unknown outcome: the test looks at the hosts (as an operator would) and
// decides accept when the action's effect is there, rerun when it is not.
//
// For every run it asserts: the journal always reads; the run ends done; the hosts end
// exactly as after an uninterrupted run (file hashes under each host's install folder,
// logs and the run id in backup names left out; no lock left behind); and no completed
// action ran twice: per step, the attempts (action_start events) whose state-changing
// effects in the lab's audit log (commands that exited 0, renames into place) include
// all the effects of the uninterrupted run's action are counted, and must be exactly
// one.
//
// CUTOVER_CRASH_POINTS sets the number of kill points (default 10, 4 with -short;
// make crash runs 120), CUTOVER_CRASH_SEED the seed (default 1).

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// cutoverBinary builds the program once per test process (into the test journal folder,
// which TestMain removes).
func cutoverBinary(t *testing.T) string {
	t.Helper()
	labtest.SkipShort(t)
	binOnce.Do(func() {
		dir := os.Getenv("CUTOVER_JOURNALS")
		if dir == "" {
			dir = os.TempDir()
		}
		binPath = filepath.Join(dir, "cutover-under-test")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is one run of the binary.
type proc struct {
	code   int
	killed bool
	out    string
}

// runUntil runs the binary and, when target > 0, kills it with SIGKILL delay after the
// journal has at least target lines. A process that ends first is not killed.
func runUntil(t *testing.T, bin, jpath string, target int, delay time.Duration, args ...string) proc {
	t.Helper()
	var when func() bool
	if target > 0 {
		when = func() bool { return countLines(jpath) >= target }
	}
	return runKilling(t, bin, when, delay, args...)
}

// runKilling runs the binary and, when when is not nil, kills it with SIGKILL delay
// after when first holds (polled every 200µs). A process that ends first is not killed;
// one that neither ends nor is killed within two minutes fails the test.
func runKilling(t *testing.T, bin string, when func() bool, delay time.Duration, args ...string) proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(2 * time.Minute)
	var err error
poll:
	for {
		select {
		case err = <-done:
			break poll
		case <-deadline:
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("cutover %v neither ended nor was killed within 2 minutes:\n%s", args, out.String())
		default:
		}
		if when != nil && when() {
			time.Sleep(delay)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			err = <-done
			break
		}
		time.Sleep(200 * time.Microsecond)
	}
	p := proc{out: out.String()}
	if ps := cmd.ProcessState; ps != nil {
		p.code = ps.ExitCode()
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			p.killed = true
		}
	} else if err != nil {
		t.Fatal(err)
	}
	return p
}

func countLines(p string) int {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}

// crashBackup matches the run id cutover puts in the name of an INI file's original
// (NAME.cutover-RUN) and of what a copy replaced, kept aside for the back-out
// (NAME.cutover-RUN-replaced), as a name or as the folder of a path. A second name kept
// aside for the same target (NAME.cutover-RUN-replaced-2) does not match: an
// uninterrupted run makes none.
var crashBackup = regexp.MustCompile(`\.cutover-[0-9]{8}T[0-9]{6}Z-[0-9a-f]+(-replaced)?(/|$)`)

// crashStaging matches the random part of a pre-seeded staging copy's name.
var crashStaging = regexp.MustCompile(`\.cutover-preseed-[0-9a-f]{16}(/|$)`)

// crashTree fingerprints the Maestro hosts' install folders, without logs and with the
// run id in backup names left out (two runs have two ids); all else is exact.
func crashTree(t *testing.T, l *testLab) string {
	t.Helper()
	tree, err := l.InstallTree([]string{"lui", "hub", "trk", "spare"}, func(rel string) string {
		return crashBackup.ReplaceAllString(rel, ".cutover-RUN$1$2")
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// effect is one state-changing thing an action did, as the lab's audit log shows it.
type effect struct {
	at   time.Time
	what string // "spare exec maestroctl start", "lui rename opt/maestro/lui/lui.ini"
}

// effects lists the completed state-changing operations of the lab: commands that exited
// 0 (probes and checks included; only those an uninterrupted run's action made count
// later) and successful renames, with paths relative to the host root.
func effects(t *testing.T, l *testLab) []effect {
	t.Helper()
	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	var out []effect
	for _, e := range entries {
		switch {
		case e.Kind == "exec" && e.Exit != nil && *e.Exit == 0:
			out = append(out, effect{e.Time, e.Host + " exec " + e.Command})
		case e.Kind == "sftp" && e.Error == "" && (e.Op == "rename" || e.Op == "posix-rename"):
			rel, err := filepath.Rel(l.HostRoot(e.Host), e.Target)
			if err != nil {
				rel = e.Target
			}
			if crashBackup.MatchString(rel) {
				continue // keeping an INI file's original, or what a copy replaces, is not the change itself
			}
			// A pre-seed's staging copy has a random name, another in every run: the
			// files it gets are the same.
			rel = crashStaging.ReplaceAllString(filepath.ToSlash(rel), ".cutover-preseed-STAGING$1")
			out = append(out, effect{e.Time, e.Host + " rename " + rel})
		}
	}
	return out
}

// attempt is one action start of a step, and what happened on the hosts until the next.
type attempt struct {
	step    string
	effects map[string]bool
}

// attempts splits the lab's effects by the journal's action starts.
func attempts(t *testing.T, l *testLab, jpath string) []attempt {
	t.Helper()
	j, err := journal.Read(jpath)
	if err != nil {
		t.Fatal(err)
	}
	var starts []*steps.Event
	for _, ev := range j.Events {
		if ev.Type == steps.EvActionStart {
			starts = append(starts, ev)
		}
	}
	effs := effects(t, l)
	out := make([]attempt, len(starts))
	for i, ev := range starts {
		out[i] = attempt{step: ev.Step, effects: map[string]bool{}}
		for _, e := range effs {
			if e.at.Before(ev.Time) || (i+1 < len(starts) && !e.at.Before(starts[i+1].Time)) {
				continue
			}
			out[i].effects[e.what] = true
		}
	}
	return out
}

// actionEffects is, per step, what its action did in an uninterrupted run: the effects
// during its attempt, less the commands of checks (which only read).
func actionEffects(as []attempt) map[string][]string {
	out := map[string][]string{}
	for _, a := range as {
		for e := range a.effects {
			if readOnly(e) {
				continue
			}
			out[a.step] = append(out[a.step], e)
		}
		sort.Strings(out[a.step])
	}
	return out
}

// readOnly tells the commands of checks and probes from those of actions.
func readOnly(e string) bool {
	_, rest, _ := strings.Cut(e, " ")
	if !strings.HasPrefix(rest, "exec ") {
		return false
	}
	cmd := strings.TrimPrefix(rest, "exec ")
	return !(strings.HasPrefix(cmd, "maestroctl start") || strings.HasPrefix(cmd, "maestroctl stop") || strings.HasPrefix(cmd, "maestro-setup "))
}

// completions counts, per step, the attempts that did everything the reference did.
func completions(as []attempt, ref map[string][]string) map[string]int {
	out := map[string]int{}
	for _, a := range as {
		want := ref[a.step]
		if len(want) == 0 {
			continue
		}
		all := true
		for _, w := range want {
			all = all && a.effects[w]
		}
		if all {
			out[a.step]++
		}
	}
	return out
}

// happened is the operator's look at the hosts: did the action of step take effect?
func happened(t *testing.T, l *testLab, step string) bool {
	t.Helper()
	exists := func(host, rel string) bool {
		_, err := os.Stat(filepath.Join(l.HostRoot(host), filepath.FromSlash(rel)))
		return err == nil
	}
	running := func(host string) bool { return exists(host, "var/maestro.running") }
	contains := func(host, rel, s string) bool {
		b, err := os.ReadFile(filepath.Join(l.HostRoot(host), filepath.FromSlash(rel)))
		return err == nil && strings.Contains(string(b), s)
	}
	same := func(rel string) bool {
		a, b := filepath.Join(l.HostRoot("hub"), "opt/maestro", rel), filepath.Join(l.HostRoot("spare"), "opt/maestro", rel)
		if _, err := os.Stat(a); err != nil {
			return false
		}
		if _, err := os.Stat(b); err != nil {
			return false
		}
		return treeOf(t, a) == treeOf(t, b)
	}
	// staged: the pre-seed left one staging copy beside rel on spare, as rel is on hub.
	staged := func(rel string) bool {
		m, _ := filepath.Glob(filepath.Join(l.HostRoot("spare"), "opt/maestro", rel) + ".cutover-preseed-*")
		return len(m) == 1 && treeOf(t, m[0]) == treeOf(t, filepath.Join(l.HostRoot("hub"), "opt/maestro", rel))
	}
	switch step {
	case "preseed-hub-data":
		return staged("hub/hub.ini") && staged("hub/accountreg") && staged("hub/hubreg")
	case "stop-maestro":
		return !running("lui") && !running("hub") && !running("trk") && !running("spare")
	case "install-fresh", "install-add":
		return exists("spare", "opt/maestro/hub/hub.ini")
	case "transfer-hub-data":
		return same("hub/hub.ini") && same("hub/accountreg") && same("hub/hubreg")
	case "point-lui-to-hub":
		return contains("lui", "opt/maestro/lui/lui.ini", "RegistryHubHost=spare.maestro.lab")
	case "point-tracker-to-hub":
		return contains("trk", "opt/maestro/trk/tracker.ini", "RegistryHubHost=spare.maestro.lab")
	case "uninstall-old-hub":
		return !exists("hub", "opt/maestro/hub")
	case "start-maestro":
		return running("spare") && running("lui") && running("trk")
	}
	t.Fatalf("no evidence rule for step %s", step)
	return false
}

// crashStats are the figures of the test.
type crashStats struct {
	mu                                        sync.Mutex
	points, midAction, runs                   int
	duplicates, unreadable, notEnded, resumes int
	accepts, reruns                           int
}

func (s *crashStats) add(f func(*crashStats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestCrashResume(t *testing.T) {
	points := envInt("CUTOVER_CRASH_POINTS", 10)
	if testing.Short() && os.Getenv("CUTOVER_CRASH_POINTS") == "" {
		points = 4
	}
	seed := uint64(envInt("CUTOVER_CRASH_SEED", 1))
	bin := cutoverBinary(t)

	// The uninterrupted run: the end state, the journal's length and what each action does.
	ref := startLab(t)
	rj := filepath.Join(t.TempDir(), "ref.jsonl")
	if p := runUntil(t, bin, rj, 0, 0, "run", "--from", ref.runFile(), "--headless", "--journal", rj); p.code != 0 {
		t.Fatalf("the uninterrupted run failed: exit %d\n%s", p.code, p.out)
	}
	want := crashTree(t, ref)
	total := countLines(rj)
	refEffects := actionEffects(attempts(t, ref, rj))
	for _, s := range []string{"preseed-hub-data", "stop-maestro", "install-fresh", "transfer-hub-data", "point-lui-to-hub", "point-tracker-to-hub", "uninstall-old-hub", "start-maestro"} {
		if len(refEffects[s]) == 0 {
			t.Fatalf("the uninterrupted run's audit log shows no effect of %s: %v", s, refEffects)
		}
	}
	t.Logf("uninterrupted run: %d journal lines; action effects: %v", total, refEffects)

	// Kill plans: 1 to 3 kills per run, at increasing journal lengths.
	rng := rand.New(rand.NewPCG(seed, 6))
	var plans [][]crashKill
	for left := points; left > 0; {
		k := min(1+rng.IntN(3), left)
		left -= k
		lines := map[int]bool{}
		for len(lines) < k {
			lines[1+rng.IntN(total-1)] = true
		}
		var plan []crashKill
		for n := range lines {
			plan = append(plan, crashKill{n, time.Duration(rng.IntN(20_000)) * time.Microsecond})
		}
		sort.Slice(plan, func(i, j int) bool { return plan[i].line < plan[j].line })
		plans = append(plans, plan)
	}

	stats := &crashStats{}
	t.Cleanup(func() {
		t.Logf("crash figures (seed %d): %d kill points (%d with an action in flight) in %d runs, %d resumes (%d accept, %d rerun decided from the hosts); "+
			"completed actions run twice: %d; unreadable journals: %d; runs not reaching the end state: %d",
			seed, stats.points, stats.midAction, stats.runs, stats.resumes, stats.accepts, stats.reruns, stats.duplicates, stats.unreadable, stats.notEnded)
		if os.Getenv("CUTOVER_CRASH_REPORT") != "" {
			_ = os.WriteFile(os.Getenv("CUTOVER_CRASH_REPORT"), fmt.Appendf(nil,
				"kill points: %d (action in flight: %d)\nruns: %d\nresumes: %d (accept %d, rerun %d)\ncompleted actions run twice: %d\nunreadable journals: %d\nruns not reaching the end state: %d\n",
				stats.points, stats.midAction, stats.runs, stats.resumes, stats.accepts, stats.reruns, stats.duplicates, stats.unreadable, stats.notEnded), 0o644)
		}
	})

	for i, plan := range plans {
		t.Run(fmt.Sprintf("run-%03d", i), func(t *testing.T) {
			t.Parallel()
			crashRun(t, bin, plan, want, refEffects, stats)
		})
	}
}

// crashKill is one kill point: when the journal has line lines, wait delay and kill.
type crashKill struct {
	line  int
	delay time.Duration
}

// crashRun runs move-hub once with the given kills (journal line, delay) and resumes it
// to the end.
func crashRun(t *testing.T, bin string, kills []crashKill, want string, refEffects map[string][]string, stats *crashStats) {
	l := startLab(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	stats.add(func(s *crashStats) { s.runs++ })
	fail := func(format string, args ...any) { t.Errorf(format, args...) }

	next := 0
	args := []string{"run", "--from", l.runFile(), "--headless", "--journal", jpath}
	var decide []string
	var history []string
	for round := 0; ; round++ {
		if round > 3*len(kills)+10 {
			stats.add(func(s *crashStats) { s.notEnded++ })
			fail("the run does not end after %d rounds:\n%s", round, strings.Join(history, "\n"))
			return
		}
		target, delay := 0, time.Duration(0)
		if next < len(kills) {
			target, delay = kills[next].line, kills[next].delay
		}
		p := runUntil(t, bin, jpath, target, delay, append(args, decide...)...)
		history = append(history, fmt.Sprintf("round %d: %v -> exit %d killed=%v\n%s", round, append(args, decide...), p.code, p.killed, p.out))
		if p.killed {
			next++
		}
		j, err := journal.Read(jpath)
		if err != nil {
			stats.add(func(s *crashStats) { s.unreadable++ })
			fail("the journal does not read after round %d: %v", round, err)
			return
		}
		st := steps.NewRunState(j.Events)
		if p.killed {
			pending := false
			for _, ss := range st.Steps {
				pending = pending || ss.ActionPending
			}
			stats.add(func(s *crashStats) {
				s.points++
				if pending {
					s.midAction++
				}
			})
		}
		if st.Ended {
			if st.Outcome != steps.RunDone {
				stats.add(func(s *crashStats) { s.notEnded++ })
				fail("the run ended %s: %s", st.Outcome, st.Message)
				return
			}
			break
		}
		if !p.killed && p.code != 1 && p.code != 0 {
			stats.add(func(s *crashStats) { s.notEnded++ })
			fail("exit %d without a kill:\n%s", p.code, strings.Join(history, "\n"))
			return
		}
		// Resume; an action of unknown outcome is settled from the hosts.
		args = []string{"resume", jpath, "--answers", l.runFile(), "--headless"}
		decide = nil
		stats.add(func(s *crashStats) { s.resumes++ })
		if cur := st.Current(); cur != nil && cur.ActionPending && !p.killed {
			d := "rerun"
			if happened(t, l, cur.ID()) {
				d = "accept"
			}
			stats.add(func(s *crashStats) {
				if d == "accept" {
					s.accepts++
				} else {
					s.reruns++
				}
			})
			decide = []string{"--decide", cur.ID() + "=" + d}
		}
	}

	if got := crashTree(t, l); got != want {
		stats.add(func(s *crashStats) { s.notEnded++ })
		fail("the hosts differ from an uninterrupted run:\n%s\n%s", diffTrees(want, got), strings.Join(history, "\n"))
	}
	if err := journal.Verify(jpath); err != nil {
		stats.add(func(s *crashStats) { s.unreadable++ })
		fail("the journal fails verification: %v", err)
	}
	// A completion needs every effect with exit 0; a command killed after it did its work
	// (the connection closed before it could exit) shows as killed, so a step may show no
	// completion although the hosts prove it happened: the end state above covers that.
	done := completions(attempts(t, l, jpath), refEffects)
	for step := range refEffects {
		if n := done[step]; n > 1 {
			stats.add(func(s *crashStats) { s.duplicates += n - 1 })
			fail("the action of %s completed %d times:\n%s", step, n, strings.Join(history, "\n"))
		}
	}
}

func diffTrees(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	in := func(l []string, s string) bool {
		i := sort.SearchStrings(l, s)
		return i < len(l) && l[i] == s
	}
	var b strings.Builder
	for _, s := range w {
		if !in(g, s) {
			b.WriteString("- " + s + "\n")
		}
	}
	for _, s := range g {
		if !in(w, s) {
			b.WriteString("+ " + s + "\n")
		}
	}
	return b.String()
}

// TestCrashDetectorSeesDuplicate proves the duplicate count can see a duplicate: the
// connection drops after Maestro started everywhere, and the "operator" wrongly decides
// rerun: the start action then completes twice, and the count says so.
func TestCrashDetectorSeesDuplicate(t *testing.T) {
	t.Parallel()
	l := startLab(t, "drop-after:trk:^maestroctl start$")
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	wantCode(t, cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath), 1, "outcome is unknown")
	if !happened(t, l, "start-maestro") {
		t.Fatal("the start should have happened before the drop")
	}
	wantCode(t, cutover(t, "resume", jpath, "--decide", "start-maestro=rerun", "--headless"), 0)
	ref := map[string][]string{"start-maestro": {"lui exec maestroctl start", "spare exec maestroctl start", "trk exec maestroctl start"}}
	if n := completions(attempts(t, l, jpath), ref)["start-maestro"]; n != 2 {
		t.Errorf("the detector counts %d completions of a start that ran twice, want 2", n)
	}
}
