package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/local"
	"github.com/cutover/cutover/probe/sshx"
	"github.com/cutover/cutover/probe/yamlpos"
)

// pairs is a repeatable KEY=VALUE flag (--role old=hub --set database=internal).
type pairs map[string]string

func (p pairs) String() string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k+"="+p[k])
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func (p pairs) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("expected KEY=VALUE, got %q", s)
	}
	p[strings.TrimSpace(k)] = v
	return nil
}

// Type names the value in usage lines (--role KEY=VALUE).
func (p pairs) Type() string { return "KEY=VALUE" }

// flagError is every command's answer to a flag it cannot parse: the parser's message,
// and for an unknown flag the nearest known ones.
func flagError(cmd *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) {
		return err
	}
	typed := ne.GetSpecifiedName()
	if typed == "" {
		return err
	}
	if s := suggestFlags(cmd, typed); len(s) > 0 {
		return fmt.Errorf("%w\n\nDid you mean this?\n\t%s", err, strings.Join(s, "\n\t"))
	}
	return err
}

// suggestFlags names the flags of cmd within two edits of typed, or starting with it.
func suggestFlags(cmd *cobra.Command, typed string) []string {
	var out []string
	seen := map[string]bool{}
	visit := func(f *pflag.Flag) {
		if f.Hidden || seen[f.Name] {
			return
		}
		seen[f.Name] = true
		if yamlpos.Distance(typed, f.Name) <= 2 || (len(typed) > 1 && strings.HasPrefix(f.Name, typed)) {
			out = append(out, "--"+f.Name)
		}
	}
	cmd.LocalFlags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	sort.Strings(out)
	return out
}

// longFlagsWithOneDash rewrites -json, -journal-dir=X and the like to their double-dash
// spelling when the command has a long flag of that name: cutover's flags were Go
// flag package flags, which take either, and operators' scripts have the one-dash form.
// Single letters (-i, -v, -o) and combined short flags are left to the parser.
func longFlagsWithOneDash(root *cobra.Command, args []string) []string {
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		return args
	}
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		cmd = root
	}
	cmd.InitDefaultHelpFlag()
	fs := cmd.Flags()
	fs.AddFlagSet(cmd.InheritedFlags())
	out := make([]string, 0, len(args))
	value := false // the previous flag takes this argument as its value
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if value {
			out = append(out, a)
			value = false
			continue
		}
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(a) > 2 {
			name, _, hasValue := strings.Cut(a[1:], "=")
			if f := fs.Lookup(name); f != nil && len(name) > 1 {
				a = "-" + a
				value = !hasValue && f.NoOptDefVal == ""
			}
		} else if strings.HasPrefix(a, "--") {
			name, _, hasValue := strings.Cut(a[2:], "=")
			if f := fs.Lookup(name); f != nil {
				value = !hasValue && f.NoOptDefVal == ""
			}
		} else if strings.HasPrefix(a, "-") && len(a) == 2 {
			if f := fs.ShorthandLookup(a[1:]); f != nil {
				value = f.NoOptDefVal == ""
			}
		}
		out = append(out, a)
	}
	return out
}

// findInventory returns the inventory path: the flag, else ./cutover.yaml, else the
// user's config folder (cutover/inventory.yaml); implicit when it was not the flag.
func findInventory(flagValue string) (path string, implicit, ok bool) {
	if flagValue != "" {
		return flagValue, false, true
	}
	if _, err := os.Stat("cutover.yaml"); err == nil {
		return "cutover.yaml", true, true
	}
	if dir, err := os.UserConfigDir(); err == nil {
		p := filepath.Join(dir, "cutover", "inventory.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, true, true
		}
	}
	return "", false, false
}

// openInventory loads the inventory findInventory found: one found implicitly with
// inventory.LoadImplicit, which refuses a file another user could have planted.
func openInventory(flagValue string) (*inventory.Inventory, bool, error) {
	p, implicit, ok := findInventory(flagValue)
	if !ok {
		return nil, false, nil
	}
	load := inventory.Load
	if implicit {
		load = inventory.LoadImplicit
	}
	inv, err := load(p)
	if err != nil {
		return nil, true, badInput{err}
	}
	return inv, true, nil
}

func loadInventory(path string) (*inventory.Inventory, error) {
	inv, ok, err := openInventory(path)
	if !ok {
		return nil, bad("no inventory: give -i FILE (cutover YAML, an Ansible inventory, a folder of them or an ssh_config file), -i ssh:ALIAS,... " +
			"(hosts of ~/.ssh/config) or -i ansible-inventory:SOURCE, or create ./cutover.yaml; to practise, start a lab with: cutover lab --dir /tmp/lab")
	}
	return inv, err
}

// dialer reaches remote hosts over SSH and the operator's machine directly, for the
// wizard: it asks for nothing on the terminal, which the wizard owns.
func dialer(e *env) probe.Dialer {
	return newDialer(&sshx.Dialer{BecomePassword: becomePasswordPrompt(e, false)})
}

// newDialer reaches remote hosts with ssh and the operator's machine directly.
func newDialer(ssh *sshx.Dialer) probe.Dialer {
	loc := local.Dialer()
	return probe.DialerFunc(func(ctx context.Context, h *probe.Host) (probe.Transport, error) {
		if h.Local {
			return loc.Dial(ctx, h)
		}
		return ssh.Dial(ctx, h)
	})
}

// output opens -o FILE (written atomically when closed) or returns stdout.
func output(e *env, name string) (io.Writer, func() error, error) {
	if name == "" || name == "-" {
		return e.stdout, func() error { return nil }, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".cutover-*")
	if err != nil {
		return nil, nil, err
	}
	return tmp, func() error {
		if err := tmp.Close(); err != nil {
			os.Remove(tmp.Name())
			return err
		}
		return os.Rename(tmp.Name(), name)
	}, nil
}
