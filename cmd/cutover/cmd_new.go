package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/runbooks"
)

func newNewCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "new",
		Short:   "write a skeleton to start from (new runbook ID)",
		Example: `  cutover new runbook acme/move-app --dir site-runbooks`,
	}
	var dir string
	rb := &cobra.Command{
		Use:   "runbook ID",
		Short: "write a commented runbook skeleton, its component declaration and a practice lab that runs it",
		Example: `  cutover new runbook postfix/move-queue                 # into ./runbooks
  cutover new runbook postfix/move-queue --dir site-runbooks`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			files, err := runbooks.NewRunbook(dir, args[0])
			if err != nil {
				return badInput{err}
			}
			for _, f := range files {
				fmt.Fprintln(e.stdout, "wrote", f)
			}
			fmt.Fprintf(e.stdout, "next: cutover lint %s, then rehearse it: cutover lab --runbooks %s --scenario %s --dir LABDIR\n",
				files[0], dir, scenarioOf(args[0]))
			return nil
		},
	}
	rb.Flags().StringVar(&dir, "dir", "runbooks", "the runbook folder to write into (one on the search path, so cutover finds it)")
	cmd.AddCommand(rb)
	return cmd
}

// scenarioOf is the practice-lab scenario name new runbook gives the runbook id.
func scenarioOf(id string) string {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == '/' {
			return id[i+1:]
		}
	}
	return id
}
