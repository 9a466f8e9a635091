// Package tui is cutover's full-screen wizard: a view of the same engine the headless
// runner drives. It is the only package that imports the Charm stack (Bubble Tea,
// Bubbles, Huh, Lip Gloss, Glamour). Its root model is a small router of pages (first
// contact, home, setup, plan review, the step screen and the summary); pages take their
// keys from one KeyMap and their looks from one styles package, do I/O only inside
// tea.Cmds, and keep no state the journal does not have: a run's progress is the fold
// of the engine's events, exactly as `cutover resume` rebuilds it.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/tui/styles"
)

// Config is what the wizard starts from.
type Config struct {
	// Inventory is the loaded inventory; nil means none was found, and the wizard offers
	// the practice lab.
	Inventory *inventory.Inventory
	// LabDir is where the in-process practice lab keeps its hosts.
	LabDir string
	// LabScenario builds the lab's scenario (it lives with the runbooks).
	LabScenario func(now time.Time) (*lab.Scenario, error)
	// Catalog is every runbook to offer.
	Catalog []*steps.Runbook
	// Runbook, when set, opens that runbook's setup at once (cutover run RUNBOOK).
	Runbook string
	// RunFile prefills roles, parameters and the suggested commands of manual steps.
	RunFile *steps.RunFile
	// Resume, when set, continues the run in that journal (cutover resume JOURNAL).
	Resume string
	// JournalDir holds journals; empty means journal.DefaultDir().
	JournalDir string
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

// ErrAborted is returned when the operator ends the wizard before a run finished; the
// command line maps it to exit code 3 when a run is resumable.
var ErrAborted = errors.New("the wizard was closed before the run finished")

// Run shows the wizard until the operator quits. A run in progress is stopped at a safe
// point on quit, SIGHUP, SIGTERM or a panic, so `cutover resume` continues it.
func Run(ctx context.Context, cfg Config) error {
	a := newApp(cfg, lipgloss.HasDarkBackground(os.Stdin, os.Stdout))
	defer a.close()
	r := newRoot(a, firstPage(a))
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithoutSignalHandler()}
	if cfg.Input != nil {
		opts = append(opts, tea.WithInput(cfg.Input))
	}
	if cfg.Output != nil {
		opts = append(opts, tea.WithOutput(cfg.Output))
	}
	p := tea.NewProgram(r, opts...)

	// Signals become messages so the run stops at a safe point; a second one forces.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			p.Send(signalMsg{name: s.String()})
		}
	}()

	_, err := p.Run()
	// Whatever ended the program (quit, signal, panic), no engine call may still be
	// running when we return: the journal must be complete.
	if a.active != nil {
		a.active.stop()
		if !a.finished() {
			if err == nil {
				err = fmt.Errorf("%w; continue with: cutover resume %s", ErrAborted, a.active.journalPath())
			}
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
	if cfg.JournalDir == "" {
		cfg.JournalDir = journal.DefaultDir()
	}
	return &app{cfg: cfg, keys: DefaultKeyMap(), st: styles.New(dark), inv: cfg.Inventory,
		catalog: cfg.Catalog, facts: map[string]*probe.Facts{}, now: cfg.Now}
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

func (a *app) finished() bool {
	return a.active == nil || a.runEnded
}

func (a *app) close() {
	if a.lab != nil {
		_ = a.lab.Close()
	}
}

// labDir is where the practice lab goes when the operator accepts the offer.
func (a *app) labDir() string {
	if a.cfg.LabDir != "" {
		return a.cfg.LabDir
	}
	return filepath.Join(filepath.Dir(a.cfg.JournalDir), "lab")
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
