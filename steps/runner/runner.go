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

	"golang.org/x/crypto/ssh"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/steps/lock"
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
	// BreakLock, when set, is the operator's reason to break host locks whose owner is
	// gone or cannot be known (--break-lock); it is journaled. Locks of live runs are
	// never broken.
	BreakLock string
	// Signer, when set, signs the journal each time the run stops (journal.Sign).
	Signer ssh.Signer
}

// Run is a started or resumed run.
type Run struct {
	Engine  *steps.Engine
	Journal *journal.Writer
	Pool    *probe.Pool
	Facts   map[string]*probe.Facts
	// Locks are the run's locks on its hosts.
	Locks *lock.Set
	rec   *releaser
}

// releaser records events in the journal and releases the run's locks as soon as the
// run's end is on disk, whoever drives the engine and whenever it is closed.
type releaser struct {
	steps.Recorder
	locks *lock.Set
	err   error
}

func (r *releaser) Record(ev *steps.Event) error {
	if err := r.Recorder.Record(ev); err != nil {
		return err
	}
	if ev.Type == steps.EvRunEnd && r.locks != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.locks.Release(ctx); err != nil {
			r.err = fmt.Errorf("%w (remove the lock file by hand, or break it with --break-lock on the next run)", err)
		}
	}
	return nil
}

// Close releases the hosts' locks if the run has ended (done or aborted; a run that
// was interrupted or waits for an operator keeps them, and resuming takes them over),
// then closes the journal and the connections. An error says what could not be done,
// a lock left behind included.
func (r *Run) Close() error {
	var errs []error
	if r.rec != nil && r.rec.err != nil {
		errs = append(errs, r.rec.err)
		r.rec.err = nil
	}
	if r.Locks != nil && r.Engine != nil && r.Engine.Finished() {
		// Released when the run's end was recorded; again here in case that failed.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := r.Locks.Release(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%w (remove the lock file by hand, or break it with --break-lock on the next run)", err))
		}
		cancel()
	}
	if r.Journal != nil {
		errs = append(errs, r.Journal.Close())
	}
	if r.Pool != nil {
		errs = append(errs, r.Pool.Close())
	}
	return errors.Join(errs...)
}

// lockHosts takes the run's locks on hosts and journals what it took (and broke)
// once the engine exists; see package lock.
func (c *Config) lockHosts(ctx context.Context, pool *probe.Pool, hosts []*probe.Host, rb *steps.Runbook, runID, journalPath string) (*lock.Set, error) {
	op, machine := Operator()
	if abs, err := filepath.Abs(journalPath); err == nil {
		journalPath = abs
	}
	return lock.Acquire(ctx, pool, hosts, lock.Owner{
		Operator: op, Machine: machine, Runbook: rb.ID, RunID: runID, Journal: journalPath, Version: c.Version,
	}, lock.Options{Break: c.BreakLock, Now: c.Now})
}

// noteLocks journals the locks broken and taken.
func noteLocks(e *steps.Engine, locks *lock.Set) error {
	for _, b := range locks.Broken {
		if err := e.Note(b.Note()); err != nil {
			return err
		}
	}
	return e.Note(locks.Note())
}

// lockable lists the hosts a run locks: every role host, except one that is down
// while all its roles may be down (a failed primary cannot be changed by anybody, and
// cannot hold a lock), as Runbook.Fit judges it. facts tells which hosts answered;
// without facts (a resume) a host whose roles may all be down is dialled to see.
func (c *Config) lockable(ctx context.Context, pool *probe.Pool, plan *steps.Plan, facts map[string]*probe.Facts) []*probe.Host {
	if facts == nil {
		facts = map[string]*probe.Facts{}
		for role, h := range plan.Roles {
			if r := plan.Runbook.Role(role); r == nil || !r.MayBeDown || facts[h.Name] != nil {
				continue
			}
			f := &probe.Facts{Name: h.Name, Reachable: true}
			if _, err := pool.Get(ctx, h); err != nil && probe.IsConnectionError(err) {
				f.Reachable, f.Error = false, err.Error()
			}
			facts[h.Name] = f
		}
	}
	down := map[string]bool{}
	for role, h := range plan.Roles {
		fit := plan.Runbook.Fit(role, h, steps.Binding{Roles: plan.Roles, Facts: facts})
		if _, seen := down[h.Name]; !seen {
			down[h.Name] = true
		}
		down[h.Name] = down[h.Name] && fit.Down
	}
	var out []*probe.Host
	seen := map[string]bool{}
	for _, h := range plan.Roles {
		if !down[h.Name] && !seen[h.Name] {
			seen[h.Name] = true
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// UnreachableError lists role hosts that could not be probed. Runs do not start
// against hosts they cannot see; the command line exits 4.
type UnreachableError struct {
	Hosts []string
	Facts []*probe.Facts
}

// Error names the hosts that could not be reached and why.
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

// ProbeRoles probes the distinct hosts bound to roles, through pool. A host that does
// not answer is an error unless Runbook.Fit finds it down for roles that may all be
// down (rb may be nil: then every host must answer).
func (c *Config) ProbeRoles(ctx context.Context, pool *probe.Pool, roles map[string]string, rb *steps.Runbook) (map[string]*probe.Facts, error) {
	var hosts []*probe.Host
	bound := map[string]*probe.Host{}
	seen := map[string]bool{}
	for role, name := range roles {
		h := c.Inventory.Host(name)
		if h == nil {
			continue
		}
		bound[role] = h
		if !seen[name] {
			seen[name] = true
			hosts = append(hosts, h)
		}
	}
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].Name < hosts[j].Name })
	pr := &probe.Prober{Pool: pool, Timeout: c.ProbeTimeout, Now: c.Now}
	all := pr.ProbeAll(ctx, hosts)
	facts := map[string]*probe.Facts{}
	for _, f := range all {
		facts[f.Name] = f
	}
	missing := map[string]bool{}
	for role, h := range bound {
		if f := facts[h.Name]; f.Reachable {
			continue
		}
		if rb == nil || !rb.Fit(role, h, steps.Binding{Roles: bound, Facts: facts}).Down {
			missing[h.Name] = true
		}
	}
	ue := &UnreachableError{}
	for _, f := range all {
		if missing[f.Name] {
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
	facts, err := c.ProbeRoles(ctx, pool, in.Roles, rb)
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
		path = journal.NewPath(c.JournalDir, rb.ID, c.now())
	}
	runID := steps.NewRunID(c.now())
	locks, err := c.lockHosts(ctx, pool, c.lockable(ctx, pool, plan, facts), rb, runID, path)
	if err != nil {
		pool.Close()
		return nil, err
	}
	w, err := journal.Create(path)
	if err != nil {
		_ = locks.Release(context.WithoutCancel(ctx))
		pool.Close()
		return nil, err
	}
	if c.Signer != nil {
		w.SignWith(c.Signer)
	}
	op, machine := Operator()
	// The journal names the inventory for resume, which may run from another folder.
	invFile := c.Inventory.File
	if abs, err := filepath.Abs(invFile); err == nil && !strings.HasPrefix(invFile, inventory.SSHPrefix) {
		invFile = abs // "ssh:hub1,hub2" names aliases, not a file
	}
	rec := &releaser{Recorder: w, locks: locks}
	e, err := steps.Start(plan, rec, steps.Options{
		Pool: pool, Observer: c.Observer, Now: c.Now, Hard: c.Hard,
		Operator: op, Machine: machine, Version: c.Version,
		Inventory: invFile, InventoryDigest: c.Inventory.Digest, Replay: replayOf, RunID: runID,
	})
	if err == nil {
		err = noteLocks(e, locks)
	}
	if err != nil {
		w.Close()
		_ = locks.Release(context.WithoutCancel(ctx))
		pool.Close()
		return nil, err
	}
	return &Run{Engine: e, Journal: w, Pool: pool, Facts: facts, Locks: locks, rec: rec}, nil
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
	if c.Signer != nil {
		w.SignWith(c.Signer)
	}
	if j.Broken != nil {
		w.Close()
		return nil, fmt.Errorf("%s: refusing to resume a journal that fails its integrity check: %v", path, j.Broken)
	}
	op, machine := Operator()
	eopts := steps.Options{
		Operator: op, Machine: machine, Version: c.Version,
		Secrets: opts.Secrets, AllowChanged: opts.AllowChanged,
	}
	// Check the inputs before touching any host (a lock is a change on the host).
	plan, st, err := steps.Restore(j.Events, rb, c.Inventory.Host, eopts)
	if err != nil {
		w.Close()
		return nil, err
	}
	if st.Ended {
		w.Close()
		return nil, fmt.Errorf("%s: the run has already ended (%s)", path, st.Outcome)
	}
	pool := probe.NewPool(c.Dialer)
	// The locks stay with the run if anything below fails: it is still interrupted.
	locks, err := c.lockHosts(ctx, pool, c.lockable(ctx, pool, plan, nil), rb, st.Session.RunID, path)
	if err != nil {
		w.Close()
		pool.Close()
		return nil, err
	}
	eopts.Pool, eopts.Observer, eopts.Now, eopts.Hard = pool, c.Observer, c.Now, c.Hard
	rec := &releaser{Recorder: w, locks: locks}
	e, err := steps.Resume(j.Events, rb, c.Inventory.Host, rec, eopts)
	if err == nil {
		err = noteLocks(e, locks)
	}
	if sig := j.Signature; err == nil && sig != nil && !sig.Whole {
		// The new signature will cover these lines too: say in the signed record that
		// they were written without one.
		err = e.Note(fmt.Sprintf("the journal's signature covered lines 1-%d when this run was resumed: the lines after it were written without a signature (the run stopped before it could sign them)", sig.Lines))
	}
	if err != nil {
		w.Close()
		pool.Close()
		return nil, err
	}
	return &Run{Engine: e, Journal: w, Pool: pool, Locks: locks, rec: rec}, nil
}
