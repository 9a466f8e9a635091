// Package tui is cutover's full-screen wizard: a view of the same engine the headless
// runner drives. It is the only package that imports the Charm stack (Bubble Tea,
// Bubbles, Huh, Lip Gloss, Glamour); a test checks that with go list.
//
// The root model (root.go) is a small router: a stack of pages (first contact, home,
// setup, plan review, resume offer, the step screen, its evidence page, the summary)
// and the frame around the top one: title bar, help bar, the quit question. Pages take
// their keys from one KeyMap (keys.go) and their looks from one styles package; they
// do I/O only inside tea.Cmds, and open other pages by messages that name the page they
// come from, so a key pressed twice acts once. Background probing and the spinner
// belong to the app, shared by the pages.
//
// A run is driven through a driver (driver.go): every engine call runs in a command
// under the driver's lock; the engine's events and live progress come back as
// messages, addressed by step id, and the step screen's picture of the run is the fold
// of those events over the journal as read from disk, so it holds no state the journal
// does not have. Quitting, a signal, a dropped terminal or a panic stop the run at a
// safe point (an action in flight finishes and is recorded) before the program ends,
// so `cutover resume` continues it.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/tui/styles"
)

// Config is what the wizard starts from.
type Config struct {
	// Inventory is the loaded inventory; nil means none was found, and the wizard offers
	// the practice lab.
	Inventory *inventory.Inventory
	// InventorySearched lists where an inventory was looked for, for the first screen.
	InventorySearched []string
	// LabDir is where the practice lab of the lab offer keeps its hosts, for the screen.
	LabDir string
	// LabOffer is the title of the scenario the lab offer starts.
	LabOffer string
	// StartLab sets up and serves the practice lab of the lab offer (nil: no offer).
	// The wizard calls it inside a command and closes the lab when it ends.
	StartLab func() (*Lab, error)
	// Lab is set when the inventory is a practice lab's (served by another process):
	// the wizard then shows the lab's stand-ins for manual steps.
	Lab *Lab
	// Catalog is every runbook to offer.
	Catalog []*steps.Runbook
	// Runbook, when set, opens that runbook's setup at once (cutover run RUNBOOK).
	Runbook string
	// RunFile prefills roles, parameters and the suggested commands of manual steps.
	RunFile *steps.RunFile
	// Resume, when set, continues the run in that journal (cutover resume JOURNAL).
	Resume string
	// JournalDir holds journals, and RunsDir the run files the setup saves (ctrl+s):
	// both as the command line resolved them (journal.FoldersFor).
	JournalDir string
	RunsDir    string
	// Dialer reaches the hosts.
	Dialer  probe.Dialer
	Version string
	// Input and Output default to the process's terminal.
	Input  io.Reader
	Output io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ProbeEvery is the background probe interval on the home screen (default 30s).
	ProbeEvery time.Duration
}

// Lab is a practice lab the wizard works in: its inventory, and the lab's run files,
// whose answers perform manual steps with the lab's simulated tools. The wizard shows
// those commands as hints, marked as the lab's stand-ins for the real vendor action,
// and starts the parameter form from the lab's values (its paths point into the
// simulated hosts).
type Lab struct {
	Inventory *inventory.Inventory
	// Scenario names the lab's scenario.
	Scenario string
	// Runs are the lab's run files by runbook id.
	Runs map[string]*steps.RunFile
	// Close stops a lab the wizard started; nil for one served elsewhere.
	Close func() error
}

// ErrAborted is returned when the wizard ends before the run it shows finished (the
// operator quit, the console dropped, a signal or a panic); the run is resumable and the
// command line exits 3.
var ErrAborted = errors.New("the run was interrupted before it finished")

// Usable reports whether the wizard can run: it needs a terminal for input and output.
func Usable() bool {
	return term.IsTerminal(os.Stdin.Fd()) && term.IsTerminal(os.Stdout.Fd())
}

// Run shows the wizard until the operator quits. A run in progress is stopped at a safe
// point on quit, SIGHUP, SIGTERM or a panic, so `cutover resume` continues it.
func Run(ctx context.Context, cfg Config) error {
	a := newApp(cfg, true) // the terminal's answer to the background query corrects it
	defer a.close()
	var opts []tea.ProgramOption
	if cfg.Input != nil {
		opts = append(opts, tea.WithInput(cfg.Input))
	}
	if cfg.Output != nil {
		opts = append(opts, tea.WithOutput(cfg.Output))
	}
	return runProgram(ctx, a, newRoot(a, firstPage(a)), opts...)
}

// runProgram runs the wizard's program and, however it ends, leaves the journal
// complete: a run still open is stopped at a safe point before it returns.
func runProgram(ctx context.Context, a *app, r *root, opts ...tea.ProgramOption) error {
	opts = append([]tea.ProgramOption{tea.WithContext(ctx), tea.WithoutSignalHandler()}, opts...)
	p := tea.NewProgram(r, opts...)

	// Signals become messages, so the run stops at a safe point. In raw mode ctrl+c is a
	// key, not a signal; a SIGINT comes from kill(1) and is treated like SIGTERM.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer func() {
		signal.Stop(sigs)
		close(sigs)
	}()
	go func() {
		for s := range sigs {
			p.Send(signalMsg{name: s.String()})
		}
	}()

	_, err := p.Run()
	// Whatever ended the program (quit, signal, a dropped terminal, panic), no engine
	// call may still be running when we return: the journal must be complete.
	if d := a.active; d != nil {
		d.stop()
		if !d.ended() && d.journalPath() != "" {
			cause := "the wizard was closed"
			if err != nil {
				cause = err.Error()
			}
			return fmt.Errorf("%w (%s); continue with: cutover resume %s", ErrAborted, cause, d.journalPath())
		}
	}
	if errors.Is(err, tea.ErrProgramKilled) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: %v", ErrAborted, err)
	}
	return err
}

func newApp(cfg Config, dark bool) *app {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ProbeEvery == 0 {
		cfg.ProbeEvery = 30 * time.Second
	}
	return &app{cfg: cfg, keys: DefaultKeyMap(), st: styles.New(dark), inv: cfg.Inventory, lab: cfg.Lab,
		catalog: cfg.Catalog, facts: map[string]*probe.Facts{}, now: cfg.Now, spin: newSpinner()}
}

// firstPage decides where the wizard opens: the lab offer without an inventory, a
// resumed run, a runbook's setup, or home.
func firstPage(a *app) page {
	switch {
	case a.cfg.Resume != "":
		return newRunPage(a, runSource{resume: a.cfg.Resume})
	case a.inv == nil:
		return newFirstContact(a)
	case a.cfg.Runbook != "":
		if rb := a.runbook(a.cfg.Runbook); rb != nil {
			return newSetupPage(a, rb)
		}
	}
	return newHome(a)
}

func (a *app) runbook(id string) *steps.Runbook {
	for _, rb := range a.catalog {
		if rb.ID == id {
			return rb
		}
	}
	return nil
}

func (a *app) close() {
	if a.lab != nil && a.lab.Close != nil {
		_ = a.lab.Close()
	}
}

// labRun is the practice lab's run file of runbook id, or nil outside the lab.
func (a *app) labRun(id string) *steps.RunFile {
	if a.lab == nil {
		return nil
	}
	return a.lab.Runs[id]
}

// truncate cuts styled text to w cells, with an ellipsis.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	return ansi.Truncate(s, w, "…")
}

// bindings is a helper for pages' help.
func bindings(b ...key.Binding) []key.Binding { return b }

// wrap folds text to width w at spaces only: a hyphen never ends a line, so "-i FILE",
// "maestro-setup" or a path with dashes stays whole (x/ansi breaks at every hyphen).
// A word longer than the line is cut.
func wrap(s string, w int) string {
	if !strings.Contains(s, "-") {
		return ansi.Wordwrap(s, max(w, 10), "")
	}
	return strings.ReplaceAll(ansi.Wordwrap(strings.ReplaceAll(s, "-", keptHyphen), max(w, 10), ""), keptHyphen, "-")
}

// keptHyphen stands in for a hyphen while text is wrapped: the non-breaking hyphen,
// one cell wide like the hyphen, which the wrappers do not break at.
const keptHyphen = "\u2011"

// newSpinner is the one spinner of the wizard; pages colour its frames themselves, so a
// change of styles (a light terminal) reaches it too.
func newSpinner() spinner.Model {
	return spinner.New(spinner.WithSpinner(spinner.MiniDot))
}
