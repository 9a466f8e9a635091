package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
)

// newCompletionCmd prints a shell's completion script. The scripts call cutover back
// (cobra's hidden __complete command) for what depends on the site: runbook ids, the
// roles and parameters of the runbook on the line, the hosts of its inventory, journals,
// lab scenarios and faults.
func newCompletionCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "print the shell completion script (commands, flags, runbooks, roles, hosts, journals)",
		Long: `Print the script that teaches a shell to complete cutover's commands and flags, and
the values that depend on the site: runbook ids, the roles and parameters of the runbook
on the line, the hosts of the inventory given with -i, journals in the journal folder,
and lab scenarios and faults.`,
		Example: `  source <(cutover completion bash)                   # this bash session
  cutover completion bash > /etc/bash_completion.d/cutover
  cutover completion zsh > "${fpath[1]}/_cutover"
  cutover completion fish > ~/.config/fish/completions/cutover.fish
  cutover completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(e.stdout, true)
			case "zsh":
				return root.GenZshCompletion(e.stdout)
			case "fish":
				return root.GenFishCompletion(e.stdout, true)
			default:
				return root.GenPowerShellCompletionWithDesc(e.stdout)
			}
		},
	}
	return cmd
}

// completion is a function cobra calls to complete a flag's value or an argument.
type completion = cobra.CompletionFunc

// noFiles ends a list of values the shell should not add file names to.
const noFiles = cobra.ShellCompDirectiveNoFileComp

// completeRunbooks completes runbook ids on the search path (shipped and the site's),
// each with its title.
func completeRunbooks(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	c := catalogOf(cmd)
	if c == nil {
		return nil, cobra.ShellCompDirectiveError
	}
	out := make([]string, 0, len(c.Entries))
	for _, e := range c.Entries {
		if rb, err := e.Runbook(); err == nil {
			out = append(out, rb.ID+"\t"+rb.Title)
		}
	}
	return out, noFiles
}

// catalogOf loads the runbooks, lab scenarios and component declarations on the search
// path the command line gives (--runbooks, --allow-shadow, CUTOVER_RUNBOOKS, ./runbooks,
// the config folder). Completion stays quiet: a broken site file leaves out what did not
// load instead of printing into the shell's prompt; nil only when nothing loaded.
func catalogOf(cmd *cobra.Command) *runbooks.Catalog {
	dirs, _ := cmd.Flags().GetStringArray("runbooks")
	shadow, _ := cmd.Flags().GetBool("allow-shadow")
	c, _ := runbooks.Load(runbooks.LoadOptions{SearchPathOptions: runbooks.SearchPathOptions{Dirs: dirs}, AllowShadow: shadow})
	if c == nil || len(c.Entries) == 0 {
		return nil
	}
	return c
}

// completeJournals completes the journals in the journal folder (--journal-dir, else
// the default), newest first; the shell completes file names when there are none.
func completeJournals(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	return journalsIn(journalDirOf(cmd)), cobra.ShellCompDirectiveDefault
}

// journalDirOf is the journal folder a command line names, else the default one.
func journalDirOf(cmd *cobra.Command) string {
	if f := cmd.Flags().Lookup("journal-dir"); f != nil {
		return journalDir(f.Value.String())
	}
	return journalDir("")
}

// journalsIn lists the journals of dir, newest first, each with its runbook and start.
func journalsIn(dir string) []string {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	type item struct {
		path string
		mod  time.Time
	}
	var items []item
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			items = append(items, item{p, fi.ModTime()})
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].mod.After(items[j].mod) })
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.path+"\t"+it.mod.Format("2006-01-02 15:04"))
	}
	return out
}

// completeRunbooksAndJournals is export's argument: a runbook id or a journal.
func completeRunbooksAndJournals(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, noFiles
	}
	ids, _ := completeRunbooks(cmd, args, toComplete)
	js, _ := completeJournals(cmd, args, toComplete)
	return append(ids, js...), cobra.ShellCompDirectiveDefault
}

// onlyFirst completes the first argument with c, and nothing after it.
func onlyFirst(c completion) completion {
	return prefixed(func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, noFiles
		}
		return c(cmd, args, toComplete)
	})
}

// prefixed keeps the values of c that start with what is typed: the shells filter too,
// but not all of them the same way, and a short list reads better in a test.
func prefixed(c completion) completion {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		out, dir := c(cmd, args, toComplete)
		return slices.DeleteFunc(out, func(s string) bool { return !strings.HasPrefix(s, toComplete) }), dir
	}
}

// runbookOnLine is the runbook a command line is about: its argument (a runbook id, a
// runbook file or a journal), else the runbook of its --from run file.
func runbookOnLine(cmd *cobra.Command, args []string) *steps.Runbook {
	ref := ""
	if len(args) > 0 {
		ref = args[0]
	}
	if ref == "" {
		if rf := runFileOnLine(cmd); rf != nil {
			ref = rf.Runbook
		}
	}
	if ref == "" {
		return nil
	}
	if strings.HasSuffix(ref, ".jsonl") {
		rec, err := readRecorded(ref)
		if err != nil {
			return nil
		}
		return rec.rb
	}
	if c := catalogOf(cmd); c != nil {
		if rb, err := c.Get(ref); err == nil {
			return rb // shipped or on the site's search path, or a runbook file
		}
	}
	if rb, err := runbooks.LoadFile(ref); err == nil {
		return rb // a site's own runbook, run from its file
	}
	return nil
}

// runFileOnLine is the run file of --from, if any loads.
func runFileOnLine(cmd *cobra.Command) *steps.RunFile {
	f := cmd.Flags().Lookup("from")
	if f == nil || f.Value.String() == "" {
		return nil
	}
	rf, err := steps.LoadRunFile(f.Value.String())
	if err != nil {
		return nil
	}
	return rf
}

// inventoryOnLine is the inventory of -i, else of the --from run file, else the journal
// on the line's, else the one found as the command would find it.
func inventoryOnLine(cmd *cobra.Command, args []string) *inventory.Inventory {
	path := ""
	if f := cmd.Flags().Lookup("inventory"); f != nil {
		path = f.Value.String()
	}
	if path == "" {
		if rf := runFileOnLine(cmd); rf != nil {
			path = rf.Inventory
		}
	}
	if path == "" && len(args) > 0 && strings.HasSuffix(args[0], ".jsonl") {
		if rec, err := readRecorded(args[0]); err == nil {
			path = rec.st.Session.Inventory
		}
	}
	inv, ok, err := openInventory(path)
	if !ok || err != nil {
		return nil
	}
	return inv
}

// hostNames are the inventory's hosts, each with its address.
func hostNames(inv *inventory.Inventory, prefix string) []string {
	if inv == nil {
		return nil
	}
	out := make([]string, 0, len(inv.Hosts))
	for _, h := range inv.Hosts {
		out = append(out, prefix+h.Name+"\t"+h.Address)
	}
	return out
}

// completeHosts completes host names of the inventory on the line (probe's arguments).
func completeHosts(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	out := hostNames(inventoryOnLine(cmd, nil), "")
	out = slices.DeleteFunc(out, func(s string) bool {
		name, _, _ := strings.Cut(s, "\t")
		return slices.Contains(args, name)
	})
	return out, noFiles
}

// completeRoles completes --role: ROLE= with the runbook's roles, then the hosts of the
// inventory after the =.
func completeRoles(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if role, _, ok := strings.Cut(toComplete, "="); ok {
		return hostNames(inventoryOnLine(cmd, args), role+"="), noFiles
	}
	rb := runbookOnLine(cmd, args)
	if rb == nil {
		return nil, noFiles
	}
	return keys(rb.Roles, func(r *steps.Role) (string, string) { return r.ID, r.Title })
}

// completeParams completes --set KEY= with the runbook's parameters (and its choices,
// after the =, for a parameter that has them).
func completeParams(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	rb := runbookOnLine(cmd, args)
	if rb == nil {
		return nil, noFiles
	}
	if key, _, ok := strings.Cut(toComplete, "="); ok {
		var out []string
		for _, p := range rb.Params {
			if p.ID == key {
				for _, c := range p.Choices {
					out = append(out, key+"="+c)
				}
			}
		}
		return out, noFiles
	}
	return keys(rb.Params, func(p *steps.Param) (string, string) { return p.ID, p.Title })
}

// completeDecide completes resume's --decide STEP=accept|rerun|retry with the steps of
// the journal's runbook.
func completeDecide(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if step, _, ok := strings.Cut(toComplete, "="); ok {
		return []string{step + "=accept", step + "=rerun", step + "=retry"}, noFiles
	}
	rb := runbookOnLine(cmd, args)
	if rb == nil {
		return nil, noFiles
	}
	return keys(rb.Steps, func(s *steps.Step) (string, string) { return s.ID, s.Title })
}

// keys completes the KEY= part of a KEY=VALUE flag: each item's id and an equals sign,
// described by its title, with no space after it.
func keys[T any](items []T, idTitle func(T) (string, string)) ([]string, cobra.ShellCompDirective) {
	out := make([]string, 0, len(items))
	for _, it := range items {
		id, title := idTitle(it)
		out = append(out, id+"=\t"+title)
	}
	return out, noFiles | cobra.ShellCompDirectiveNoSpace
}

// completeScenarios completes lab --scenario: the shipped scenarios and the site's
// (NAME.lab.yaml on the search path).
func completeScenarios(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, name := range runbooks.ScenarioNames() {
		if sc, err := runbooks.Scenario(name, time.Now()); err == nil {
			out = append(out, name+"\t"+sc.Title)
		}
	}
	if c := catalogOf(cmd); c != nil {
		for _, name := range slices.Sorted(maps.Keys(c.Scenarios)) {
			if sc, err := runbooks.ScenarioFile(c.Scenarios[name], time.Now()); err == nil {
				out = append(out, name+"\t"+sc.Title)
			}
		}
	}
	return out, noFiles
}

// completeFaults completes lab --fault with the faults of the --scenario on the line (a
// shipped one, a site's by name, or a scenario file).
func completeFaults(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	name := "maestro"
	if f := cmd.Flags().Lookup("scenario"); f != nil && f.Value.String() != "" {
		name = f.Value.String()
	}
	sc, err := runbooks.Scenario(name, time.Now())
	if c := catalogOf(cmd); c != nil {
		if p, ok := c.Scenarios[name]; ok {
			sc, err = runbooks.ScenarioFile(p, time.Now())
		}
	}
	if err != nil {
		if sc, err = runbooks.ScenarioFile(name, time.Now()); err != nil {
			return nil, noFiles
		}
	}
	var out []string
	for _, f := range sc.Faults {
		out = append(out, f.Name+"\t"+firstLine(f.Description))
	}
	return out, noFiles
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// complete registers completion functions for flags of cmd.
func complete(cmd *cobra.Command, flags map[string]completion) *cobra.Command {
	for name, c := range flags {
		if err := cmd.RegisterFlagCompletionFunc(name, prefixed(c)); err != nil {
			panic(fmt.Sprintf("cutover %s: completion of --%s: %v", cmd.Name(), name, err)) // a programming mistake
		}
	}
	return cmd
}
