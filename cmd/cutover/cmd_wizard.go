package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/tui"
)

// newWizardCmd is the wizard command; the root command is one too (cutover alone
// opens the wizard).
func newWizardCmd(e *env) *cobra.Command {
	var invPath, labDir, journalDir string
	cmd := &cobra.Command{
		Use:   "wizard [-i INVENTORY] [--lab-dir DIR] [--journal-dir DIR]",
		Short: "the full-screen wizard (the default when no command is given)",
		Example: `  cutover wizard
  cutover wizard -i site.yaml --journal-dir /srv/cutover/journals`,
		Annotations: map[string]string{ownSignals: "yes"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmdWizard(cmd.Context(), e, invPath, labDir, journalDir)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&invPath, "inventory", "i", "", "inventory `FILE` (default ./cutover.yaml, or the user's config folder)")
	fs.StringVar(&labDir, "lab-dir", "", "`DIR` where the practice lab keeps its hosts when started from the wizard")
	fs.StringVar(&journalDir, "journal-dir", "", "`DIR` for journals (default: "+journal.DefaultDir()+")")
	return cmd
}

func cmdWizard(ctx context.Context, e *env, invPath, labDir, journalDir string) error {
	inv, _, err := openInventory(invPath)
	if err != nil {
		return err
	}
	return wizard(ctx, e, wizardOptions{inv: inv, labDir: labDir, journalDir: journalDir})
}

type wizardOptions struct {
	inv        *inventory.Inventory
	runbook    string
	runFile    *steps.RunFile
	resume     string
	labDir     string
	journalDir string
}

// wizard opens the full-screen wizard on the terminal.
func wizard(ctx context.Context, e *env, o wizardOptions) error {
	if !tui.Usable() {
		return bad("the full-screen wizard needs a terminal; without one, use --headless (cutover run --help)")
	}
	cat, err := e.catalog()
	if err != nil {
		return err
	}
	catalog, err := cat.Runbooks()
	if err != nil {
		return badInput{err}
	}
	if o.resume != "" {
		// A run of a runbook kept in a file of the site's: the wizard knows it only if
		// it is in the catalogue.
		if rb := fileRunbookOf(o.resume, catalog); rb != nil {
			catalog = append(catalog, rb)
		}
	}
	dirs := journal.FoldersFor(o.journalDir, o.labDir)
	searched := []string{"./cutover.yaml"}
	if dir, err := os.UserConfigDir(); err == nil {
		searched = append(searched, filepath.Join(dir, "cutover", "inventory.yaml"))
	}
	cfg := tui.Config{
		Inventory: o.inv, InventorySearched: searched, Catalog: catalog, Runbook: o.runbook, RunFile: o.runFile, Resume: o.resume,
		JournalDir: dirs.Journals, LabDir: dirs.Lab, RunsDir: dirs.Runs, Dialer: dialer(e), Version: version(),
		StartLab: wizardLab(dirs.Lab, catalog),
	}
	if sc, err := runbooks.Scenario(offeredScenario, time.Now()); err == nil {
		cfg.LabOffer = sc.Title
	}
	if o.inv != nil {
		if found, ok := lab.FindByInventory(o.inv.File, o.inv.Hosts); ok {
			cfg.Lab = &tui.Lab{Inventory: o.inv, Scenario: found.Scenario, Runs: labRuns(found.RunFile, catalog)}
		}
	}
	err = tui.Run(ctx, cfg)
	if errors.Is(err, tui.ErrAborted) {
		fmt.Fprintf(e.stderr, "cutover: %v\n", err)
		return quiet{headless.ExitInterrupted}
	}
	return err
}

// offeredScenario is the practice lab the wizard offers when there is no inventory.
const offeredScenario = "maestro"

// wizardLab is the wizard's StartLab: it sets up the practice lab in dir, serves it in
// this process until the wizard closes it, and loads its inventory and run files.
func wizardLab(dir string, catalog []*steps.Runbook) func() (*tui.Lab, error) {
	return func() (*tui.Lab, error) {
		sc, err := runbooks.Scenario(offeredScenario, time.Now())
		if err != nil {
			return nil, err
		}
		l, err := lab.Setup(dir, sc, lab.Options{})
		if err != nil {
			return nil, err
		}
		go func() { _ = l.Serve(context.Background()) }() // ends when the wizard closes the lab
		inv, err := inventory.Load(l.Inventory())
		if err != nil {
			_ = l.Close()
			return nil, err
		}
		return &tui.Lab{Inventory: inv, Scenario: sc.Title, Runs: labRuns(l.RunFile, catalog), Close: l.Close}, nil
	}
}

// labRuns loads the lab's run files of the runbooks in catalog, where the lab has one
// (path names it). One that does not load gives no hints, and the wizard works on.
func labRuns(path func(runbook string) string, catalog []*steps.Runbook) map[string]*steps.RunFile {
	out := map[string]*steps.RunFile{}
	for _, rb := range catalog {
		if rf, err := steps.LoadRunFile(path(rb.ID)); err == nil && rf.Runbook == rb.ID {
			out[rb.ID] = rf
		}
	}
	return out
}

// fileRunbookOf loads the runbook of the run in journal path from the file the session
// names, when the catalogue lacks it.
func fileRunbookOf(path string, catalog []*steps.Runbook) *steps.Runbook {
	r, err := journal.Load(path, func(s *steps.Session) (*steps.Runbook, error) {
		if s.File == "" || slices.ContainsFunc(catalog, func(rb *steps.Runbook) bool { return rb.ID == s.Runbook }) {
			return nil, nil
		}
		rb, err := runbooks.LoadFile(s.File)
		if err != nil || rb.ID != s.Runbook {
			return nil, nil
		}
		return rb, nil
	})
	if err != nil {
		return nil
	}
	return r.Runbook
}
