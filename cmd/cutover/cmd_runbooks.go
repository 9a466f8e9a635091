package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/cutover/cutover/runbooks"
)

func cmdRunbooks(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "runbooks", "[--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	all, err := runbooks.All()
	if err != nil {
		return err
	}
	if *asJSON {
		type item struct {
			ID, Title, System, Source string
			Steps                     int
		}
		var out []item
		for _, rb := range all {
			out = append(out, item{rb.ID, rb.Title, rb.System, rb.Source, len(rb.Steps)})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSYSTEM\tSTEPS\tTITLE")
	for _, rb := range all {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", rb.ID, rb.System, len(rb.Steps), rb.Title)
	}
	return tw.Flush()
}

func cmdLint(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "lint", "[--builtin] [RUNBOOK.yaml...]")
	builtin := fs.Bool("builtin", false, "check the shipped runbooks too (they are checked when no file is named)")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	n, warnings, err := runbooks.Lint(files, *builtin)
	// Warnings do not fail: they list, for review, every value a command inserts as code.
	for _, w := range warnings {
		fmt.Fprintln(e.stdout, w)
	}
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return quiet{2}
	}
	if len(warnings) > 0 {
		fmt.Fprintf(e.stdout, "%d runbooks, no problems, %d warnings\n", n, len(warnings))
		return nil
	}
	fmt.Fprintf(e.stdout, "%d runbooks, no problems\n", n)
	return nil
}
