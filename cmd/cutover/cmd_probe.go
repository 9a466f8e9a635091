package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/probe/sshx"
)

// probeOptions are the flags of cutover probe.
type probeOptions struct {
	inv     string
	asJSON  bool
	timeout time.Duration
}

func newProbeCmd(e *env) *cobra.Command {
	o := &probeOptions{}
	cmd := &cobra.Command{
		Use:   "probe -i INVENTORY [--json] [HOST...]",
		Short: "probe the inventory's hosts: reachability, OS, clock, components",
		Example: `  cutover probe -i site.yaml
  cutover probe -i site.yaml hub web1 --json
  cutover probe -i ssh:hub,web1 --timeout 5s`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdProbe(cmd.Context(), e, o, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.inv, "inventory", "i", "", "inventory `FILE`")
	fs.BoolVar(&o.asJSON, "json", false, "print a JSON array of facts")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Second, "time limit per host")
	cmd.ValidArgsFunction = prefixed(completeHosts)
	return cmd
}

func cmdProbe(ctx context.Context, e *env, o *probeOptions, names []string) error {
	in, err := loadInventory(o.inv)
	if err != nil {
		return err
	}
	hosts := in.Hosts
	if len(names) > 0 {
		hosts = nil
		for _, n := range names {
			h := in.Host(n)
			if h == nil {
				return bad("host %q is not in %s", n, in.File)
			}
			hosts = append(hosts, h)
		}
	}
	pool := probe.NewPool(newDialer(&sshx.Dialer{Passphrase: passphrasePrompt(e), BecomePassword: becomePasswordPrompt(e, true)}))
	defer pool.Close()
	pr := &probe.Prober{Pool: pool, Timeout: o.timeout}
	facts := pr.ProbeAll(ctx, hosts)
	if err := ctx.Err(); err != nil {
		return err // interrupted: the facts are incomplete, not the hosts unreachable
	}
	if o.asJSON {
		if err := writeJSON(e.stdout, facts); err != nil {
			return err
		}
	} else {
		printFacts(e, facts)
	}
	for _, f := range facts {
		if !f.Reachable {
			return quiet{4}
		}
	}
	return nil
}

func printFacts(e *env, facts []*probe.Facts) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tADDRESS\tREACHABLE\tHOSTNAME\tOS\tCLOCK\tCOMPONENTS\tTIMING (dial/auth/exec)")
	for _, f := range facts {
		reach := "yes"
		if !f.Reachable {
			reach = "NO"
		}
		clock := "-"
		if f.Reachable {
			clock = fmt.Sprintf("%+dms ±%dms", f.ClockOffset.Milliseconds(), f.ClockUncertainty.Milliseconds())
		}
		comps := strings.Join(f.Components, ",")
		if comps == "" {
			comps = "-"
		}
		osName := f.OS
		if f.OSName != "" {
			osName = f.OSName
		}
		// Everything but the timings came from the inventory or the host: one field per
		// column, whatever it holds (hosttext.Field).
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s/%s/%s\n", hosttext.Field(f.Name), hosttext.Field(f.Address), reach,
			hosttext.Field(dash(f.Hostname)), hosttext.Field(dash(osName)), clock, hosttext.Field(comps),
			f.Timing.Dial.Round(time.Millisecond), f.Timing.Auth.Round(time.Millisecond), f.Timing.Exec.Round(time.Millisecond))
	}
	tw.Flush()
	for _, f := range facts {
		name := hosttext.Line(f.Name)
		if f.Error != "" {
			fmt.Fprintf(e.stdout, "\n%s: %s\n", name, hosttext.Line(f.Error))
		}
		for _, comp := range slices.Sorted(maps.Keys(f.Settings)) {
			var kv []string
			for _, k := range slices.Sorted(maps.Keys(f.Settings[comp])) {
				kv = append(kv, k+"="+f.Settings[comp][k])
			}
			fmt.Fprintf(e.stdout, "%s %s: %s\n", name, hosttext.Line(comp), hosttext.Line(strings.Join(kv, " ")))
		}
		for _, w := range f.Warnings {
			fmt.Fprintf(e.stdout, "%s WARNING: %s\n", name, hosttext.Line(w))
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
