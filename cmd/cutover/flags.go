package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/local"
	"github.com/cutover/cutover/probe/sshx"
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

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

// newFlags makes a flag set that reports errors instead of exiting, so the exit code
// stays 2 for bad flags and the message says which command.
func newFlags(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("cutover "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: cutover %s %s\n\nFlags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, allowing flags after positional arguments (cutover run RUNBOOK
// -i inv), which is how operators type them.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, quiet{0}
			}
			return nil, quiet{2}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
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
