package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// The whole program in a real terminal: tmux runs the binary at 80x24, the test types
// keys and reads the screen, as an operator at an SSH console would.

// tmuxWait bounds every wait on the screen; the lab answers in milliseconds.
const tmuxWait = 60 * time.Second

type tmuxTerm struct {
	t    *testing.T
	sock string
	pane string
}

// needTmux skips the test when tmux is missing (CI installs it).
func needTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
}

// built is the program, built once for every test of the package that runs it.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// buildCutover builds the program once into a temporary folder that TestMain removes,
// and returns its path.
func buildCutover(t *testing.T) string {
	t.Helper()
	labtest.SkipShort(t)
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "cutover-bin-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "cutover")
		if out, err := exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// wizardEnv is an environment in which no inventory and no journal of the user's is
// found: state, config and home all in fresh folders.
func wizardEnv(t *testing.T, extra ...string) (env []string, state string) {
	t.Helper()
	root := t.TempDir()
	state = filepath.Join(root, "state")
	env = []string{"HOME=" + filepath.Join(root, "home"), "XDG_STATE_HOME=" + state,
		"XDG_CONFIG_HOME=" + filepath.Join(root, "config"), "TERM=tmux-256color", "COLORTERM=truecolor"}
	return append(env, extra...), state
}

// startTmux runs argv in a new tmux server of its own (its socket in a temporary
// folder, so the user's tmux is never touched), in a w x h pane, in folder dir, with
// env added to an environment cleared of the test's own cutover settings. A shell in
// the pane runs the program and then prints its exit status on the screen.
func startTmux(t *testing.T, w, h int, dir string, env []string, argv ...string) *tmuxTerm {
	t.Helper()
	needTmux(t)
	sockDir, err := os.MkdirTemp("", "cutover-tmux-") // short: socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	tm := &tmuxTerm{t: t, sock: filepath.Join(sockDir, "s"), pane: "main:0.0"}
	t.Cleanup(func() {
		_ = exec.Command("tmux", "-S", tm.sock, "kill-server").Run()
		os.RemoveAll(sockDir)
	})
	tm.tmux("-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), "sleep 600")
	tm.tmux("set-option", "-g", "remain-on-exit", "on")
	tm.tmux("set-option", "-g", "status", "off")
	cmd := []string{"respawn-pane", "-k", "-t", tm.pane, "-c", dir, "sh", "-c", `"$@"; echo "[cutover exited: $?]"`, "sh",
		"env", "-u", "CUTOVER_JOURNALS", "-u", "SSH_AUTH_SOCK", "-u", "NO_COLOR"}
	cmd = append(cmd, env...)
	tm.tmux(append(cmd, argv...)...)
	return tm
}

func (tm *tmuxTerm) tmux(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", tm.sock}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys sends key names as tmux knows them (Enter, Down, Tab, Escape, C-c) one by one.
func (tm *tmuxTerm) keys(names ...string) {
	tm.t.Helper()
	for _, k := range names {
		tm.tmux("send-keys", "-t", tm.pane, k)
		time.Sleep(40 * time.Millisecond) // an escape followed at once by a key reads as alt+key
	}
}

// text types literal text.
func (tm *tmuxTerm) text(s string) {
	tm.t.Helper()
	tm.tmux("send-keys", "-t", tm.pane, "-l", s)
}

func (tm *tmuxTerm) screen() string {
	tm.t.Helper()
	return tm.tmux("capture-pane", "-p", "-t", tm.pane)
}

// scrollback is the screen with the lines that scrolled off it: once the program has
// left the alternate screen, tmux's "Pane is dead" line may push its last words up.
func (tm *tmuxTerm) scrollback() string {
	tm.t.Helper()
	return tm.tmux("capture-pane", "-p", "-S", "-200", "-t", tm.pane)
}

// waitFor polls the screen until it shows every one of texts.
func (tm *tmuxTerm) waitFor(texts ...string) string {
	tm.t.Helper()
	return tm.poll(func(s string) bool {
		for _, x := range texts {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	}, fmt.Sprintf("%q", texts))
}

// poll reads the screen until ok holds for it, or fails the test after tmuxWait,
// saying what it waited for. Each read runs a tmux client: the reads come quickly at
// first (a key's echo) and then less often (a step's action), so that a dozen tests
// waiting at once do not keep the machine busy with tmux clients.
func (tm *tmuxTerm) poll(ok func(screen string) bool, what string) string {
	tm.t.Helper()
	deadline := time.Now().Add(tmuxWait)
	for pause := pollFirst; ; pause = min(pause*3/2, pollMost) {
		s := tm.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %s; the screen:\n%s", what, s)
		}
		time.Sleep(pause)
	}
}

// pollFirst and pollMost bound the pause between two reads of the screen.
const pollFirst, pollMost = 20 * time.Millisecond, 250 * time.Millisecond

func (tm *tmuxTerm) format(f string) string {
	tm.t.Helper()
	return strings.TrimSpace(tm.tmux("display-message", "-p", "-t", tm.pane, f))
}

// exited waits for the program to end and returns its exit status, as the pane's
// shell prints it.
func (tm *tmuxTerm) exited() int {
	tm.t.Helper()
	re := regexp.MustCompile(`\[cutover exited: (\d+)\]`)
	deadline := time.Now().Add(tmuxWait)
	for pause := pollFirst; ; pause = min(pause*3/2, pollMost) {
		if m := re.FindStringSubmatch(tm.scrollback()); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the program did not exit; the screen and what scrolled off it:\n%s", tm.scrollback())
		}
		time.Sleep(pause)
	}
}

// pid is the program's process id: the child of the pane's shell.
func (tm *tmuxTerm) pid() int {
	tm.t.Helper()
	shell := tm.format("#{pane_pid}")
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after the last ")".
		rest := string(data[strings.LastIndexByte(string(data), ')')+1:])
		if fields := strings.Fields(rest); len(fields) > 1 && fields[1] == shell {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			return pid
		}
	}
	tm.t.Fatalf("no child of the pane's shell %s", shell)
	return 0
}

// gone reports whether process pid has exited (it may linger as a zombie until its
// new parent reaps it).
func gone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	rest := string(data[strings.LastIndexByte(string(data), ')')+1:])
	fields := strings.Fields(rest)
	return len(fields) == 0 || fields[0] == "Z" || fields[0] == "X"
}

// labOfferToStep3 answers the lab offer, opens move-hub from home, binds new to spare,
// goes through the form and the plan, and starts the run: it waits for step 3, the
// first manual step.
func labOfferToStep3(t *testing.T, tm *tmuxTerm) {
	t.Helper()
	tm.waitFor("No inventory found", "Start the practice lab?")
	tm.keys("y")
	tm.waitFor("probed at", "spare.maestro.lab", "maestro/move-hub")
	tm.text("hub")
	tm.waitFor("filter: hub", "> maestro/move-hub") // the best match comes first
	tm.keys("Enter")
	tm.waitFor("Bind each role to a host", "> new")
	// Only hub has the Hub and no other role could want it: old is bound already. new,
	// lui and trk are the operator's: the cursor moves on to each in turn.
	tm.bindTo("spare")
	tm.bindTo("lui")
	tm.bindTo("trk")
	tm.keys("n")
	tm.moveHubFormToInstall("Nothing has run")
}

// moveHubFormToInstall goes through move-hub's parameter form, with the values filled
// in, to the plan review (which shows want too), starts the run and waits for its first
// manual step, the installation. The form and the step count follow the runbook.
func (tm *tmuxTerm) moveHubFormToInstall(want ...string) {
	tm.t.Helper()
	rb, err := runbooks.Get("maestro/move-hub")
	if err != nil {
		tm.t.Fatal(err)
	}
	tm.waitFor("System database")
	for range len(rb.Params) - 1 {
		tm.keys("Tab")
	}
	last := rb.Params[len(rb.Params)-1].Title
	tm.waitFor(last[:min(len(last), 30)])
	tm.keys("Enter")
	tm.waitFor(append([]string{"plan review"}, want...)...)
	tm.keys("s")
	install := slices.IndexFunc(rb.Steps, func(s *steps.Step) bool { return s.ID == "install-fresh" })
	tm.waitFor(fmt.Sprintf("Step %d of %d", install+1, len(rb.Steps)), "waiting for you")
}

// bindTo binds the role under the cursor to host: enter opens the role's host list,
// the cursor goes to the host, enter binds it.
func (tm *tmuxTerm) bindTo(host string) {
	tm.t.Helper()
	tm.keys("Enter")
	tm.waitFor("enter bind this host")
	tm.moveCursor(hostRows, host)
	tm.keys("Enter")
	bound := regexp.MustCompile(regexp.QuoteMeta(host) + ` (✓|↓ down|\? needs)`)
	tm.poll(bound.MatchString, host+" bound")
}

// hostRows reads a role's host list: the hosts shown, in order, and which one is under
// the cursor (-1 for none).
var hostRow = regexp.MustCompile(`(?m)^    ([> ]) [✓↓✗?] (\S+)`)

func hostRows(screen string) (items []string, cur int) {
	cur = -1
	for _, m := range hostRow.FindAllStringSubmatch(screen, -1) {
		if m[1] == ">" {
			cur = len(items)
		}
		items = append(items, m[2])
	}
	return items, cur
}

// moveCursor presses Up or Down until the list rows reads from the screen has want
// under its cursor. Each press waits for the cursor to move, so no key is sent on a
// screen not drawn yet. When want is not in view, the list scrolls towards its
// "↓ N more" (or back up).
func (tm *tmuxTerm) moveCursor(rows func(screen string) ([]string, int), want string) {
	tm.t.Helper()
	for range 200 {
		s := tm.screen()
		items, cur := rows(s)
		if cur < 0 {
			tm.t.Fatalf("no cursor in the list looking for %s:\n%s", want, s)
		}
		if items[cur] == want {
			return
		}
		key := "Down"
		if i := slices.Index(items, want); i >= 0 && i < cur || i < 0 && !strings.Contains(s, "↓ ") {
			key = "Up"
		}
		tm.keys(key)
		at := items[cur]
		tm.poll(func(s string) bool {
			items, cur := rows(s)
			return cur >= 0 && items[cur] != at
		}, "the cursor to move from "+at)
	}
	tm.t.Fatalf("%s is not in the list:\n%s", want, tm.screen())
}

// labProcess serves scenario's lab, with faults, from a process of its own: `cutover
// lab`, the program under test (built without the race detector). The test process
// only drives the terminal and reads the screen: serving SSH for several labs at once
// under the race detector, in the process that also runs the other tests, made the
// labs' answers (and so a gate that times a LAN's round trip) and the package's run
// time depend on the machine's load. The lab outlives the program in the terminal (a
// dropped console must not take the hosts with it); it stops when the test ends, or
// earlier by stop. It returns the lab's folder.
func labProcess(t *testing.T, bin, scenario string, faults ...string) (dir string, stop func()) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "lab")
	args := []string{"lab", "--dir", dir, "--scenario", scenario}
	for _, f := range faults {
		args = append(args, "--fault", f)
	}
	cmd := exec.Command(bin, args...)
	out := &readyWriter{ready: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = sync.OnceFunc(func() {
		// SIGTERM stops `cutover lab` as the command line stops: it closes the lab.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(tmuxWait):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	t.Cleanup(stop)
	select {
	case <-out.ready:
	case err := <-exited:
		t.Fatalf("cutover %s ended before the lab was ready: %v\n%s", strings.Join(args, " "), err, out.text())
	case <-time.After(tmuxWait):
		t.Fatalf("cutover %s: the lab was not ready after %s\n%s", strings.Join(args, " "), tmuxWait, out.text())
	}
	return dir, stop
}

// readyWriter keeps what `cutover lab` prints and closes ready once it says "ready".
type readyWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	ready chan struct{}
	seen  bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.seen && strings.Contains("\n"+w.buf.String(), "\nready\n") {
		w.seen = true
		close(w.ready)
	}
	return len(p), nil
}

func (w *readyWriter) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// wizardToStep3 starts a run of move-hub from the lab's run file and waits for its
// first manual step.
func wizardToStep3(t *testing.T, tm *tmuxTerm) {
	t.Helper()
	tm.waitFor("Bind each role to a host", "spare ✓")
	tm.keys("n")
	tm.moveHubFormToInstall()
}

// TestWizardConsoleDropMidActionResumes closes the terminal (tmux kill-pane: SIGHUP and
// a dead tty, as a dropped SSH console) while an action runs. The program finishes the
// action, records it and exits; `cutover resume --headless` then completes the run.
func TestWizardConsoleDropMidActionResumes(t *testing.T) {
	t.Parallel()
	bin := buildCutover(t)
	labDir, _ := labProcess(t, bin, "maestro")
	env, _ := wizardEnv(t)
	jdir := t.TempDir()
	runFile := filepath.Join(labDir, "runs", "maestro-move-hub.yaml")
	tm := startTmux(t, 80, 24, t.TempDir(), env, bin, "run", "--from", runFile, "--journal-dir", jdir)
	wizardToStep3(t, tm)
	pid := tm.pid()
	tm.keys("c")
	tm.waitFor("ROLE: COMMAND")
	// The run file suggests its answer; make it take a moment, to drop the console in it.
	tm.keys("C-u")
	tm.text("new: sleep 2; maestro-setup install --components hub")
	tm.keys("Enter")
	tm.waitFor("command: perform the manual step")
	tm.tmux("kill-pane", "-t", tm.pane)

	// The program is gone once the action's result is recorded.
	deadline := time.Now().Add(tmuxWait)
	for !gone(pid) {
		if time.Now().After(deadline) {
			t.Fatal("the program did not exit after its console dropped")
		}
		time.Sleep(50 * time.Millisecond)
	}
	jpath := singleJournal(t, jdir)
	st := readState(t, jpath)
	ss := st.Step("install-fresh")
	if st.Ended || ss.ActionPending || !ss.ActionDone || ss.Action == nil || !ss.Action.OK {
		t.Fatalf("after the drop: ended %v, action pending %v done %v: %+v", st.Ended, ss.ActionPending, ss.ActionDone, ss.Action)
	}

	out, err := exec.Command(bin, "resume", jpath, "--headless", "--answers", runFile).CombinedOutput()
	if err != nil {
		t.Fatalf("cutover resume: %v\n%s", err, out)
	}
	st = readState(t, jpath)
	if !st.Ended || st.Outcome != steps.RunDone {
		t.Fatalf("after the resume: ended %v outcome %q\n%s", st.Ended, st.Outcome, out)
	}
	if n := st.Step("install-fresh").ActionRuns; n != 1 {
		t.Errorf("install-fresh ran %d times", n)
	}
}

// TestWizardSignalsStopSafely sends SIGHUP, then (in a second run) SIGTERM, to the
// program waiting at a manual step: it leaves the alternate screen, says how to resume,
// exits 3, and the run resumes.
func TestWizardSignalsStopSafely(t *testing.T) {
	t.Parallel()
	bin := buildCutover(t)
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			labDir, _ := labProcess(t, bin, "maestro")
			runFile := filepath.Join(labDir, "runs", "maestro-move-hub.yaml")
			env, _ := wizardEnv(t)
			jdir := t.TempDir()
			tm := startTmux(t, 80, 24, t.TempDir(), env, bin, "run", "--from", runFile, "--journal-dir", jdir)
			wizardToStep3(t, tm)
			if err := syscall.Kill(tm.pid(), sig); err != nil {
				t.Fatal(err)
			}
			if code := tm.exited(); code != 3 {
				t.Fatalf("exit %d after %s, want 3; the screen:\n%s", code, sig, tm.scrollback())
			}
			s := tm.scrollback()
			if !strings.Contains(s, "cutover resume") || strings.Contains(s, "waiting for you") {
				t.Errorf("after %s the terminal is not restored with the resume hint:\n%s", sig, s)
			}
			jpath := singleJournal(t, jdir)
			if st := readState(t, jpath); st.Ended {
				t.Fatal("the run ended")
			}
			out, err := exec.Command(bin, "resume", jpath, "--headless", "--answers", runFile).CombinedOutput()
			if err != nil {
				t.Fatalf("cutover resume: %v\n%s", err, out)
			}
			if st := readState(t, jpath); st.Outcome != steps.RunDone {
				t.Fatalf("after the resume: %q", st.Outcome)
			}
		})
	}
}

func readState(t *testing.T, path string) *steps.RunState {
	t.Helper()
	j, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if j.Broken != nil {
		t.Fatalf("%s: %v", path, j.Broken)
	}
	return steps.NewRunState(j.Events)
}

// TestWizardHonoursNoColor reads the screen with its attributes: under NO_COLOR there
// is no colour sequence at all; without it there are (so the check can see them).
func TestWizardHonoursNoColor(t *testing.T) {
	t.Parallel()
	bin := buildCutover(t)
	colour := regexp.MustCompile(`\x1b\[[0-9;]*(38|48);`)
	for _, noColor := range []bool{false, true} {
		t.Run(fmt.Sprintf("NO_COLOR=%v", noColor), func(t *testing.T) {
			var extra []string
			if noColor {
				extra = append(extra, "NO_COLOR=1")
			}
			env, _ := wizardEnv(t, extra...)
			tm := startTmux(t, 80, 24, t.TempDir(), env, bin)
			tm.waitFor("No inventory found")
			screens := []string{tm.tmux("capture-pane", "-p", "-e", "-t", tm.pane)}
			// Home, the host list, the step screen with its Markdown text.
			labOfferToStep3(t, tm)
			screens = append(screens, tm.tmux("capture-pane", "-p", "-e", "-t", tm.pane))
			tm.keys("e")
			tm.waitFor("evidence: step install-fresh")
			screens = append(screens, tm.tmux("capture-pane", "-p", "-e", "-t", tm.pane))
			for i, screen := range screens {
				switch found := colour.FindString(screen); {
				case noColor && found != "":
					t.Errorf("NO_COLOR: colour sequence %q on screen %d:\n%q", found, i, screen)
				case !noColor && found == "":
					t.Errorf("without NO_COLOR screen %d has no colour at all (is the check blind?):\n%q", i, screen)
				}
				// Emphasis is not colour: the cursor and headings stay visible.
				if noColor && !strings.Contains(screen, "\x1b[1m") {
					t.Errorf("NO_COLOR: no bold on screen %d:\n%q", i, screen)
				}
			}
			tm.keys("C-c")
			tm.waitFor("Quit now?")
			tm.keys("y")
			if code := tm.exited(); code != 3 {
				t.Errorf("exit %d after quitting mid-run, want 3", code)
			}
		})
	}
}

// singleJournal is the one journal in dir.
func singleJournal(t *testing.T, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(m) != 1 {
		t.Fatalf("journals in %s: %v, want exactly one", dir, m)
	}
	return m[0]
}
