package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/runbooks"
)

// labOptions are the flags of cutover lab.
type labOptions struct {
	dir, scenario              string
	faults                     []string
	reset, verbose, listFaults bool
}

func newLabCmd(e *env) *cobra.Command {
	o := &labOptions{}
	cmd := &cobra.Command{
		Use:   "lab --dir DIR [--scenario NAME] [--fault NAME]... [--reset]",
		Short: "serve a practice lab of simulated hosts over SSH and write its inventory",
		Long: `Serve a practice lab: simulated hosts, each a real SSH server on 127.0.0.1 with real
files and processes, where shell scripts stand in for the vendor software. It writes an
inventory and a run file per runbook into DIR and serves until interrupted.`,
		Example: `  cutover lab --dir /tmp/lab
  cutover lab --dir /tmp/lab --scenario listmanager --reset
  cutover lab --scenario maestro --faults
  cutover lab --dir /tmp/lab --fault slow-web`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmdLab(cmd.Context(), e, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.dir, "dir", "", "`DIR` for the lab's hosts, keys, inventory and run files")
	fs.StringVar(&o.scenario, "scenario", "maestro", "which simulated setup to serve ("+strings.Join(runbooks.ScenarioNames(), ", ")+")")
	fs.StringArrayVar(&o.faults, "fault", nil, "switch on a fault of the scenario (repeatable; --faults lists them)")
	fs.BoolVar(&o.reset, "reset", false, "start from a fresh lab instead of the state left in DIR")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log every connection and command")
	fs.BoolVar(&o.listFaults, "faults", false, "list the scenario's faults and exit")
	return complete(cmd, map[string]completion{"scenario": completeScenarios, "fault": completeFaults})
}

func cmdLab(ctx context.Context, e *env, o *labOptions) error {
	faults := o.faults
	sc, err := e.scenario(o.scenario)
	if err != nil {
		return badInput{err}
	}
	if o.listFaults {
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		for _, f := range sc.Faults {
			fmt.Fprintf(tw, "%s\t%s\n", f.Name, f.Description)
		}
		// Disruptions of the SSH side, for any host of any scenario.
		for _, k := range lab.DisruptionKinds {
			fmt.Fprintf(tw, "%s:HOST:REGEX\t%s\n", k.Kind, k.Description)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		return nil
	}
	if o.dir == "" {
		return bad("give --dir DIR: the folder the lab keeps its simulated hosts in")
	}
	opts := lab.Options{Faults: faults, Reset: o.reset}
	if o.verbose {
		opts.Log = e.stderr
	}
	l, err := lab.Setup(o.dir, sc, opts)
	if err != nil {
		return badInput{err}
	}
	defer l.Close()
	fmt.Fprintf(e.stdout, "cutover practice lab: %s\n", sc.Title)
	fmt.Fprintln(e.stdout, "The hosts are simulated: shell scripts stand in for the vendor software; SSH, files and processes are real.")
	for _, h := range sc.Hosts {
		fmt.Fprintf(e.stdout, "  %-8s ssh on 127.0.0.1:%d  (%s)\n", h.Name, l.Port(h.Name), l.HostRoot(h.Name))
	}
	if len(faults) > 0 {
		fmt.Fprintf(e.stdout, "faults on: %v\n", faults)
	}
	fmt.Fprintf(e.stdout, "inventory: %s\n", l.Inventory())
	for _, r := range sc.Runs {
		fmt.Fprintf(e.stdout, "try: cutover run --from %s/runs/%s.yaml --headless\n", l.Dir(), runName(r.Runbook))
	}
	fmt.Fprintln(e.stdout, "ready")
	if err := l.Serve(ctx); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "lab stopped")
	return nil
}

func runName(id string) string {
	out := []byte(id)
	for i, c := range out {
		if c == '/' {
			out[i] = '-'
		}
	}
	return string(out)
}
