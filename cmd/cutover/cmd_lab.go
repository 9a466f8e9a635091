package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/runbooks"
)

func cmdLab(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "lab", "--dir DIR [--scenario NAME] [--fault NAME]... [--reset]")
	dir := fs.String("dir", "", "folder for the lab's hosts, keys, inventory and run files")
	scenario := fs.String("scenario", "maestro", "which simulated setup to serve")
	var faults list
	fs.Var(&faults, "fault", "switch on a fault of the scenario (repeatable)")
	reset := fs.Bool("reset", false, "start from a fresh lab instead of the state left in DIR")
	verbose := fs.Bool("v", false, "log every connection and command")
	listFaults := fs.Bool("faults", false, "list the scenario's faults and exit")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	sc, err := runbooks.Scenario(*scenario, time.Now())
	if err != nil {
		return badInput{err}
	}
	if *listFaults {
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		for _, f := range sc.Faults {
			fmt.Fprintf(tw, "%s\t%s\n", f.Name, f.Description)
		}
		// Disruptions of the SSH side, for any host of any scenario (probe/lab/disrupt.go).
		fmt.Fprintf(tw, "%s\t%s\n", "drop:HOST:REGEX", "cut HOST's connections as a command matching REGEX is about to start (it does not run), or right after a matching file change")
		fmt.Fprintf(tw, "%s\t%s\n", "drop-after:HOST:REGEX", "let a matching command run to its end, then cut HOST's connections before its exit status is sent")
		fmt.Fprintf(tw, "%s\t%s\n", "hang:HOST:REGEX", "HOST stops answering (nothing is closed) as a matching command starts")
		fmt.Fprintf(tw, "%s\t%s\n", "link:HOST:REGEX", "plant a symbolic link to the lab's canary at a name matching REGEX just before HOST creates it over SFTP (open, mkdir, rename)")
		if err := tw.Flush(); err != nil {
			return err
		}
		return nil
	}
	if *dir == "" {
		return bad("give --dir DIR: the folder the lab keeps its simulated hosts in")
	}
	opts := lab.Options{Faults: faults, Reset: *reset}
	if *verbose {
		opts.Log = e.stderr
	}
	l, err := lab.Setup(*dir, sc, opts)
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
