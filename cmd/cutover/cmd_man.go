//go:build man

package main

import (
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// The man pages are made by a build of cutover with the man tag (make man), so that
// the binary operators run does not carry the Markdown-to-roff converter.
func init() { commands = append(commands, newManCmd) }

// newManCmd writes a man page per command; hidden, as it is for packagers.
func newManCmd(*env) *cobra.Command {
	return &cobra.Command{
		Use:     "man DIR",
		Short:   "write the man pages (cutover.1, cutover-run.1, ...) into DIR",
		Example: "  cutover man bin/man",
		Hidden:  true,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true // the pages do not change with the day they were made
			return doc.GenManTree(root, &doc.GenManHeader{Title: "CUTOVER", Section: "1", Source: "cutover " + version()}, args[0])
		},
	}
}
