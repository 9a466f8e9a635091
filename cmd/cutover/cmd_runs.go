package main

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

func newRunsCmd(e *env) *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "runs [--journal-dir DIR] [--json]",
		Short: "list the runs in the journal folder, newest first",
		Long: `List the runs whose journals are in the journal folder, newest first: the runbook, when
it started, who ran it, on which inventory and hosts, and how it ended (unfinished: it can
be resumed, cutover resume --last takes the newest of those).`,
		Example: `  cutover runs
  cutover runs --json
  cutover runs --journal-dir /srv/cutover/journals`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return cmdRuns(e, journalDir(dir), asJSON)
		},
	}
	cmd.Flags().StringVar(&dir, "journal-dir", "", "`DIR` of the journals (default: "+journal.DefaultDir()+")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

// journalDir is the --journal-dir flag's folder, else the default one.
func journalDir(flag string) string {
	return journal.FoldersFor(flag, "").Journals
}

// runEntry is one run as cutover runs lists it.
type runEntry struct {
	Journal   string            `json:"journal"`
	RunID     string            `json:"run_id"`
	Runbook   string            `json:"runbook"`
	Title     string            `json:"title"`
	Started   time.Time         `json:"started"`
	Ended     *time.Time        `json:"ended,omitempty"`
	Operator  string            `json:"operator"`
	Inventory string            `json:"inventory"`
	Outcome   string            `json:"outcome"` // done, aborted or unfinished
	Step      string            `json:"step,omitempty"`
	Hosts     []string          `json:"hosts"`
	Roles     map[string]string `json:"roles"`
}

// entryOf says what a run is, for the list.
func entryOf(r *journal.Run) runEntry {
	s, st := r.Session, r.State
	en := runEntry{Journal: r.Path(), RunID: s.RunID, Runbook: s.Runbook, Title: s.Title, Started: st.Started,
		Operator: s.Operator, Inventory: s.Inventory, Outcome: "unfinished", Roles: s.Roles}
	if en.Roles == nil {
		en.Roles = map[string]string{}
	}
	en.Hosts = slices.Compact(slices.Sorted(maps.Values(en.Roles)))
	if en.Hosts == nil {
		en.Hosts = []string{}
	}
	if st.Ended {
		en.Outcome = string(st.Outcome)
		ended := st.EndedAt
		en.Ended = &ended
	} else {
		en.Step = currentStep(st)
	}
	return en
}

// currentStep is the step an unfinished run stopped in, or the next it would start.
func currentStep(st *steps.RunState) string {
	for _, ss := range st.Steps {
		if !ss.Planned.Skip && (ss.Status == steps.StepPending || ss.Status == steps.StepRunning) {
			return ss.Planned.ID
		}
	}
	return ""
}

func cmdRuns(e *env, dir string, asJSON bool) error {
	runs, err := journal.List(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return badInput{err}
	}
	entries := make([]runEntry, 0, len(runs))
	for _, r := range runs {
		entries = append(entries, entryOf(r))
	}
	if asJSON {
		return writeJSON(e.stdout, entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(e.stdout, "no runs in %s\n", dir)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUNBOOK\tSTARTED\tOPERATOR\tINVENTORY\tOUTCOME\tHOSTS\tJOURNAL")
	for _, en := range entries {
		outcome := en.Outcome
		if en.Step != "" {
			outcome += " at " + en.Step
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", hosttext.Field(en.Runbook), en.Started.Local().Format("2006-01-02 15:04"),
			hosttext.Field(en.Operator), hosttext.Field(dash(en.Inventory)), hosttext.Field(outcome),
			hosttext.Field(dash(strings.Join(en.Hosts, ","))), hosttext.Field(en.Journal))
	}
	return tw.Flush()
}

// lastRun is the journal --last names: the newest run in dir that is which kind (on
// inventory inv, when given). The message says what was looked for where. pos are the
// command's arguments, which --last stands in for.
func lastRun(pos []string, dir, inv string, which journal.Which) (string, error) {
	if len(pos) > 0 {
		return "", bad("give %s or --last, not both", pos[0])
	}
	r, err := journal.Latest(dir, "", inv, which)
	if errors.Is(err, journal.ErrNoRun) {
		return "", bad("--last: %v (cutover runs lists them)", err)
	}
	if err != nil {
		return "", badInput{err}
	}
	return r.Path(), nil
}
