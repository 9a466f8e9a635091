// Package runner wires a run together the same way for every front end: it probes the
// hosts a runbook's roles are bound to, plans, opens the journal and starts (or resumes)
// the engine. The command line and the TUI both use it, so a run started in one can be
// resumed in the other.
package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// Config is what every run needs besides the runbook and the operator's choices.
type Config struct {
	Inventory *inventory.Inventory
	// Dialer reaches hosts (SSH for remote ones, local for the operator's machine).
	Dialer probe.Dialer
	// JournalDir holds new journals; empty means journal.DefaultDir().
	JournalDir string
	// JournalPath, when set, is the exact file for a new journal.
	JournalPath string
	Observer    steps.Observer
	// Hard interrupts a running action when cancelled (a second Ctrl-C).
	Hard    context.Context
	Version string
	Now     func() time.Time
	// ProbeTimeout bounds the probe of each host (zero: the prober's default).
	ProbeTimeout time.Duration
}

// Run is a started or resumed run.
type Run struct {
	Engine  *steps.Engine
	Journal *journal.Writer
	Pool    *probe.Pool
	Facts   map[string]*probe.Facts
}

// Close closes the journal and the connections.
func (r *Run) Close() error {
	var errs []error
	if r.Journal != nil {
		errs = append(errs, r.Journal.Close())
	}
	if r.Pool != nil {
		errs = append(errs, r.Pool.Close())
	}
	return errors.Join(errs...)
}

// UnreachableError lists role hosts that could not be probed. Runs do not start
// against hosts they cannot see; the command line exits 4.
type UnreachableError struct {
	Hosts []string
	Facts []*probe.Facts
}

func (e *UnreachableError) Error() string {
	return "cannot reach every host of the run:\n  " + strings.Join(e.Hosts, "\n  ")
}

// Operator names who is running cutover: user@machine.
func Operator() (name, machine string) {
	machine, _ = os.Hostname()
	u := "unknown"
	if cur, err := user.Current(); err == nil {
		u = cur.Username
	}
	return u + "@" + machine, machine
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// ProbeRoles probes the distinct hosts bound to roles, through pool.
func (c *Config) ProbeRoles(ctx context.Context, pool *probe.Pool, roles map[string]string) (map[string]*probe.Facts, error) {
	var hosts []*probe.Host
	seen := map[string]bool{}
	for _, name := range roles {
		h := c.Inventory.Host(name)
		if h != nil && !seen[name] {
			seen[name] = true
			hosts = append(hosts, h)
		}
	}
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].Name < hosts[j].Name })
	pr := &probe.Prober{Pool: pool, Timeout: c.ProbeTimeout, Now: c.Now}
	all := pr.ProbeAll(ctx, hosts)
	facts := map[string]*probe.Facts{}
	ue := &UnreachableError{}
	for _, f := range all {
		facts[f.Name] = f
		if !f.Reachable {
			ue.Hosts = append(ue.Hosts, f.Name+": "+f.Error)
			ue.Facts = append(ue.Facts, f)
		}
	}
	if len(ue.Hosts) > 0 {
		return facts, ue
	}
	return facts, nil
}

// Start probes the role hosts, plans the runbook, opens a new journal and records the
// session. Errors are *steps.InputError (bad choices), *steps.RequirementError (hosts
// that do not fit their roles) or *UnreachableError.
func (c *Config) Start(ctx context.Context, rb *steps.Runbook, in steps.Inputs, replayOf string) (*Run, error) {
	if _, err := steps.Prepare(rb, c.Inventory.Host, in, nil); err != nil {
		return nil, err // bad input: say so before touching any host
	}
	pool := probe.NewPool(c.Dialer)
	facts, err := c.ProbeRoles(ctx, pool, in.Roles)
	if err != nil {
		pool.Close()
		if ctx.Err() != nil {
			// Interrupted while probing: the hosts did not fail to answer, the operator
			// stopped (exit 3, not 4).
			return nil, ctx.Err()
		}
		return nil, err
	}
	plan, err := steps.Prepare(rb, c.Inventory.Host, in, facts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	path := c.JournalPath
	if path == "" {
		dir := c.JournalDir
		if dir == "" {
			dir = journal.DefaultDir()
		}
		path = journal.NewPath(dir, rb.ID, c.now())
	}
	w, err := journal.Create(path)
	if err != nil {
		pool.Close()
		return nil, err
	}
	op, machine := Operator()
	// The journal names the inventory for resume, which may run from another folder.
	invFile := c.Inventory.File
	if abs, err := filepath.Abs(invFile); err == nil {
		invFile = abs
	}
	e, err := steps.Start(plan, w, steps.Options{
		Pool: pool, Observer: c.Observer, Now: c.Now, Hard: c.Hard,
		Operator: op, Machine: machine, Version: c.Version,
		Inventory: invFile, InventoryDigest: c.Inventory.Digest, Replay: replayOf,
	})
	if err != nil {
		w.Close()
		pool.Close()
		return nil, err
	}
	return &Run{Engine: e, Journal: w, Pool: pool, Facts: facts}, nil
}

// ResumeOptions are the choices a resume needs beyond the journal.
type ResumeOptions struct {
	// Secrets gives secret parameters again (they were never recorded).
	Secrets map[string]string
	// AllowChanged accepts a runbook that changed since the run was recorded.
	AllowChanged bool
}

// Resume reopens a journal and continues its run. The recorded plan and facts are
// kept; connections are made again as steps need them.
func (c *Config) Resume(ctx context.Context, path string, rb *steps.Runbook, opts ResumeOptions) (*Run, error) {
	w, j, err := journal.Append(path)
	if err != nil {
		return nil, err
	}
	if j.Broken != nil {
		w.Close()
		return nil, fmt.Errorf("%s: refusing to resume a journal that fails its integrity check: %v", path, j.Broken)
	}
	pool := probe.NewPool(c.Dialer)
	op, machine := Operator()
	e, err := steps.Resume(j.Events, rb, c.Inventory.Host, w, steps.Options{
		Pool: pool, Observer: c.Observer, Now: c.Now, Hard: c.Hard,
		Operator: op, Machine: machine, Version: c.Version,
		Secrets: opts.Secrets, AllowChanged: opts.AllowChanged,
	})
	if err != nil {
		w.Close()
		pool.Close()
		return nil, err
	}
	return &Run{Engine: e, Journal: w, Pool: pool}, nil
}
