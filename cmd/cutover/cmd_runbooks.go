package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/probe/yamlpos"
	"github.com/cutover/cutover/runbooks"
)

func newRunbooksCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "runbooks [--json]",
		Short: "list the runbooks",
		Example: `  cutover runbooks
  cutover runbooks --json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return cmdRunbooks(e, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func cmdRunbooks(e *env, asJSON bool) error {
	c, err := e.catalog()
	if err != nil {
		return err
	}
	if asJSON {
		type item struct {
			ID     string `json:"id"`
			Title  string `json:"title"`
			System string `json:"system"`
			Source string `json:"source"`
			Steps  int    `json:"steps"`
			// Origin is "shipped", or the site folder the runbook was found in.
			Origin  string `json:"origin"`
			File    string `json:"file,omitempty"`
			Shadows bool   `json:"shadows,omitempty"`
		}
		out := []item{}
		for _, en := range c.Entries {
			rb, err := en.Runbook()
			if err != nil {
				return badInput{err}
			}
			it := item{ID: rb.ID, Title: rb.Title, System: rb.System, Source: rb.Source, Steps: len(rb.Steps), Origin: en.Origin, Shadows: en.Shadows}
			if en.Origin != runbooks.Shipped {
				it.File = rb.File
			}
			out = append(out, it)
		}
		return writeJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSYSTEM\tSTEPS\tORIGIN\tTITLE")
	for _, en := range c.Entries {
		rb, err := en.Runbook()
		if err != nil {
			return badInput{err}
		}
		origin := en.Origin
		if en.Shadows {
			origin += " (shadows shipped)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", rb.ID, rb.System, len(rb.Steps), origin, rb.Title)
	}
	return tw.Flush()
}

func newLintCmd(e *env) *cobra.Command {
	var asJSON, builtin bool
	cmd := &cobra.Command{
		Use:   "lint [--builtin] [RUNBOOK.yaml...]",
		Short: "check the runbooks (and any runbook files given)",
		Example: `  cutover lint
  cutover lint site/postfix-move.yaml
  cutover lint site/postfix-move.yaml --json`,
		RunE: func(_ *cobra.Command, args []string) error {
			return cmdLint(e, args, builtin, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the problems as a JSON object")
	cmd.Flags().BoolVar(&builtin, "builtin", false, "check the shipped runbooks too (they are checked when no file is named)")
	return cmd
}

// lintProblem is one problem lint --json reports.
type lintProblem struct {
	Severity string `json:"severity"` // error or warning
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Message  string `json:"message"`
}

// lintReport is what lint --json prints.
type lintReport struct {
	Runbooks int           `json:"runbooks"`
	Errors   int           `json:"errors"`
	Warnings int           `json:"warnings"`
	Problems []lintProblem `json:"problems"`
}

func cmdLint(e *env, files []string, builtin, asJSON bool) error {
	n, warnings, err := runbooks.Lint(files, builtin)
	if len(files) == 0 {
		// Every runbook on the search path: the shipped ones and the site's.
		c, cerr := runbooks.Load(runbooks.LoadOptions{SearchPathOptions: runbooks.SearchPathOptions{Dirs: e.site.dirs}, AllowShadow: e.site.allowShadow})
		all, rerr := c.Runbooks()
		n, warnings, err = len(c.Entries), nil, errors.Join(cerr, rerr)
		for _, rb := range all {
			warnings = append(warnings, rb.Warnings...)
		}
	}
	if asJSON {
		rep := lintReport{Runbooks: n, Warnings: len(warnings), Problems: []lintProblem{}}
		for _, w := range warnings {
			rep.Problems = append(rep.Problems, lintProblem{"warning", w.Pos.File, w.Pos.Line, w.Pos.Col, w.Msg})
		}
		for _, one := range splitErrors(err) {
			rep.Errors++
			if pe := yamlpos.Errors(one); len(pe) > 0 {
				for _, p := range pe {
					rep.Problems = append(rep.Problems, lintProblem{"error", p.Pos.File, p.Pos.Line, p.Pos.Col, p.Msg})
				}
				continue
			}
			rep.Problems = append(rep.Problems, lintProblem{Severity: "error", Message: one.Error()})
		}
		if werr := writeJSON(e.stdout, rep); werr != nil {
			return werr
		}
		if err != nil {
			return quiet{2}
		}
		return nil
	}
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

// splitErrors lists the errors errors.Join put together (and nil as none).
func splitErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, splitErrors(e)...)
		}
		return out
	}
	return []error{err}
}
