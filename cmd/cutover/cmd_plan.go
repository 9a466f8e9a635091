package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/runner"
)

// runInputs are the inputs of a run as the command line gives them: a runbook id or a
// run file, role bindings, parameters, a preset and an inventory. run and plan take the
// same ones.
type runInputs struct {
	// runbook is the runbook id given as an argument ("" when only a run file names it).
	runbook   string
	from      string
	preset    string
	inventory string
	roles     pairs
	params    pairs
}

// resolved is what runInputs name: the runbook, the run's inputs, the inventory, and
// the run file when one was given.
type resolved struct {
	rb    *steps.Runbook
	in    steps.Inputs
	inv   *inventory.Inventory
	runf  *steps.RunFile
	given steps.Inputs // what the flags gave, for positions in the run file
}

// resolve loads the runbook, run file and inventory, flags overriding the run file.
// Every error is bad input (exit 2), naming the place in the run file where it can.
func (ri runInputs) resolve(e *env) (*resolved, error) {
	r := &resolved{in: steps.Inputs{Roles: map[string]string{}, Params: map[string]string{}, Preset: ri.preset},
		given: steps.Inputs{Roles: ri.roles, Params: ri.params, Preset: ri.preset}}
	runbookID := ri.runbook
	if ri.from != "" {
		runf, err := steps.LoadRunFile(ri.from)
		if err != nil {
			return nil, badInput{err}
		}
		if runbookID != "" && runbookID != runf.Runbook {
			return nil, bad("%s: the run file is for %s, not %s", runf.Pos("runbook"), runf.Runbook, runbookID)
		}
		if runf.Runbook == "" && runbookID == "" {
			return nil, bad("%s: the run file names no runbook: add runbook: ID (cutover runbooks lists them)", runf.File)
		}
		runbookID = runf.Runbook
		r.in = runf.Inputs()
		if ri.preset != "" {
			r.in.Preset = ri.preset
		}
		if ri.inventory == "" {
			ri.inventory = runf.Inventory
		}
		r.runf = runf
	}
	for k, v := range ri.roles {
		r.in.Roles[k] = v
	}
	for k, v := range ri.params {
		r.in.Params[k] = v
	}
	if runbookID == "" {
		return nil, bad("which runbook? give its id (cutover runbooks lists them) or --from RUNFILE")
	}
	rb, err := e.runbook(runbookID)
	if err != nil {
		if r.runf != nil && ri.runbook == "" {
			return nil, bad("%s: %v", r.runf.Pos("runbook"), err)
		}
		return nil, badInput{err}
	}
	r.rb = rb
	if r.inv, err = loadInventory(ri.inventory); err != nil {
		return nil, err
	}
	if r.runf != nil {
		if err := r.runf.CheckInputs(rb, r.inv.Host, r.given); err != nil {
			return nil, badInput{err}
		}
	}
	return r, nil
}

// newPlanCmd says what a run with the same inputs would change, with the values read
// from the hosts now, and changes nothing.
func newPlanCmd(e *env) *cobra.Command {
	var rf runFlags
	var files secretFlags
	ri := runInputs{roles: pairs{}, params: pairs{}}
	cmd := &cobra.Command{
		Use:   "plan RUNBOOK -i INVENTORY --role ROLE=HOST... [--set KEY=VALUE]... [--set-file KEY=FILE]... [--json]\n  cutover plan --from RUNFILE [-i INVENTORY] [--json]",
		Short: "what a run would change, with values read from the hosts now; changes nothing",
		Example: `  cutover plan maestro/move-hub -i site.yaml --role old=hub --role new=hub2
  cutover plan --from /tmp/lab/runs/maestro-move-hub.yaml
  cutover plan --from night.yaml --json
  CUTOVER_PARAM_DB_PASSWORD=... cutover plan --from night.yaml
  cutover plan --from night.yaml --set-file db_password=/run/secrets/db`,
		RunE: func(cmd *cobra.Command, pos []string) error {
			if len(pos) > 1 {
				return bad("give one runbook, not %d", len(pos))
			}
			if len(pos) == 1 {
				ri.runbook = pos[0]
			}
			ri.inventory = rf.inventory
			if err := rf.check(); err != nil {
				return err
			}
			return runPlan(cmd.Context(), e, &rf, ri, &files)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&rf.inventory, "inventory", "i", "", "inventory `FILE`")
	fs.BoolVar(&rf.json, "json", false, "print the plan as one JSON object")
	fs.DurationVar(&rf.keepalive, "keepalive", 10*time.Second, "check every SSH connection this often")
	fs.DurationVar(&rf.keepaliveTimeout, "keepalive-timeout", 15*time.Second, "how long a keepalive may go unanswered")
	fs.Var(ri.roles, "role", "bind a role to a host: ROLE=HOST (repeatable)")
	fs.Var(ri.params, "set", "set a parameter: KEY=VALUE (repeatable); a secret is better given with --set-file, "+paramEnvPrefix+"KEY or at the prompt")
	files.register(fs)
	fs.StringVar(&ri.preset, "preset", "", "start from one of the runbook's presets")
	fs.StringVar(&ri.from, "from", "", "run `FILE`: runbook, roles and parameters")
	cmd.ValidArgsFunction = onlyFirst(completeRunbooks)
	return complete(cmd, map[string]completion{"role": completeRoles, "set": completeParams})
}

// runPlan probes, plans and previews; exit 0 when the run could start, 1 when
// something already fails, 2 for bad input, 4 for a host that does not answer.
// Parameters come as a run's do: --set, --set-file, the run file, CUTOVER_PARAM_*, and
// an echo-off prompt on a terminal for a secret still missing.
func runPlan(ctx context.Context, e *env, rf *runFlags, ri runInputs, files *secretFlags) error {
	setOnly := maps.Clone(ri.params)
	if err := files.read(ri.params); err != nil {
		return err
	}
	r, err := ri.resolve(e)
	if err != nil {
		return err
	}
	e.completeParams(r.rb, &r.in, ri.params, setOnly)
	for k, v := range e.promptSecrets(r.rb, secretIDs(r.rb), func(id string) bool { _, ok := r.in.Params[id]; return ok }) {
		r.in.Params[k] = v
	}
	pv, err := previewOf(ctx, headlessDialer(e, rf), r)
	if err != nil {
		return explainStart(e, err)
	}
	if rf.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(pv); err != nil {
			return err
		}
	} else {
		writePreview(e.stdout, pv)
	}
	if !pv.CanStart() {
		fmt.Fprintf(e.stderr, "cutover: the run could not start: %s\n", hosttext.Line(strings.Join(pv.Blockers, "; ")))
		return quiet{headless.ExitNeedsOp}
	}
	return nil
}

// previewOf probes the role hosts and previews the plan, reading only: no lock, no
// journal. Unmet requirements make a preview of their own (exit 1, not an error).
func previewOf(ctx context.Context, d probe.Dialer, r *resolved) (*steps.Preview, error) {
	if _, err := steps.Prepare(r.rb, r.inv.Host, r.in, nil); err != nil {
		return nil, err // bad input: say so before touching any host
	}
	pool := probe.NewPool(d)
	defer pool.Close()
	facts, err := (&runner.Config{Inventory: r.inv}).ProbeRoles(ctx, pool, r.in.Roles, r.rb)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	plan, err := steps.Prepare(r.rb, r.inv.Host, r.in, facts)
	var re *steps.RequirementError
	if errors.As(err, &re) {
		return steps.UnmetPreview(r.rb, r.in.Roles, re.Problems), nil
	}
	if err != nil {
		return nil, err
	}
	pv := steps.PreviewPlan(ctx, plan, pool)
	if pv == nil {
		return nil, ctx.Err()
	}
	return pv, nil
}

// writePreview prints a preview for a terminal or a change ticket; host text is
// neutralised line by line.
func writePreview(w io.Writer, pv *steps.Preview) {
	var b strings.Builder
	line := func(format string, args ...any) {
		b.WriteString(hosttext.Line(fmt.Sprintf(format, args...)))
		b.WriteByte('\n')
	}
	line("Plan: %s (%s), read from the hosts now; nothing was changed, no lock taken", pv.Runbook, pv.Title)
	line("Roles: %s", joinMap(pv.Roles))
	if len(pv.Params) > 0 {
		line("Parameters: %s", joinMap(pv.Params))
	}
	for _, u := range pv.Unmet {
		line("UNMET requirement: %s", u)
	}
	if pv.Preflight != nil {
		var pf strings.Builder
		_ = pv.Preflight.WriteText(&pf)
		for _, l := range strings.Split(strings.TrimRight(pf.String(), "\n"), "\n") {
			line("%s", l)
		}
	}
	const in = "      "
	for i, s := range pv.Steps {
		line("")
		line("%2d. %s [%s]", i+1, s.Title, s.ID)
		if s.Skip {
			line("%sskipped: %s", in, s.Reason)
			continue
		}
		if s.Manual {
			what := "manual: the operator does it; cutover checks it"
			if s.Irreversible {
				what += "; cannot be undone: asks for a typed phrase"
			}
			line("%s%s", in, what)
		} else if s.Irreversible {
			line("%scannot be undone: asks for a typed phrase", in)
		}
		if s.Action != "" {
			line("%sdoes: %s", in, s.Action)
		}
		for _, c := range s.Changes {
			line("%s  %s", in, c.Text)
		}
		if s.ActionError != "" {
			line("%scannot: %s", in, s.ActionError)
		}
		for _, r := range s.Pre {
			note := ""
			if !r.OK() && s.Later {
				note = " (an earlier step is meant to change this)"
			}
			line("%spre-check %s: %s: %s%s", in, strings.ToUpper(string(r.Status)), r.Name, r.Summary, note)
		}
		for _, g := range s.Gates {
			line("%sgate: %s", in, g)
		}
	}
	line("")
	if pv.CanStart() {
		line("The run could start: every requirement, preflight gate and pre-check that nothing before it changes holds now.")
	} else {
		line("The run could not start now:")
		for _, bl := range pv.Blockers {
			line("  - %s", bl)
		}
	}
	_, _ = io.WriteString(w, b.String())
}

// joinMap lists a map as "k = v, ..." in key order.
func joinMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + " = " + m[k]
	}
	return strings.Join(out, ", ")
}
