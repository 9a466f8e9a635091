// Package lock keeps two cutover runs off the same hosts: a run takes a lock file on
// every host it touches before it records its first event, and a second run on any of
// those hosts is refused with what the lock says (who, since when, which runbook, run
// and journal).
//
// The lock is a small JSON file created exclusively on the host itself (SFTP open with
// O_EXCL), so two operators on different machines racing for the same host cannot both
// win. It lives in the host's install folder, where everyone who runs cutover against
// that component can write (.cutover.lock), or wherever the inventory's host variable
// cutover_lock says. A host whose install folder does not exist yet (a fresh server) is
// locked in the login's home folder instead.
//
// A run removes its locks when it ends (done or aborted) and keeps them while it is
// interrupted or waits for an operator; resuming the same run (same run id) takes them
// over. A lock whose owner is gone can only be broken explicitly, with a reason that
// goes into the journal; cutover never breaks the lock of a process it can see alive.
package lock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/hosttext"
)

// FileName is the lock file's name in the install folder.
const FileName = ".cutover.lock"

// HostVar is the inventory host variable that names the lock file instead.
const HostVar = "cutover_lock"

// Owner is what a lock file says.
type Owner struct {
	// Operator is user@machine; Machine and PID name the process that holds the lock.
	Operator string `json:"operator"`
	Machine  string `json:"machine"`
	// MachineID is the machine's /etc/machine-id where it has one: two machines may
	// share a host name, and a pid means something only on its own machine.
	MachineID string `json:"machine_id,omitempty"`
	PID       int    `json:"pid"`
	Runbook   string `json:"runbook"`
	RunID     string `json:"run_id"`
	// Journal is the run's journal on the operator's machine.
	Journal string `json:"journal"`
	// Since is when this process took the lock.
	Since time.Time `json:"since"`
	// Hosts are every host the run locked, so a refusal shows the whole run.
	Hosts   []string `json:"hosts"`
	Version string   `json:"version,omitempty"`
}

// describe says who holds the lock. The fields come from a file on the host, which
// anyone with access to it may have written: each is kept to one line, with no escape
// sequence (hosttext.Line), so a lock cannot forge the refusal it is quoted in.
func (o *Owner) describe() string {
	return fmt.Sprintf("%s (pid %d on %s) since %s, runbook %s, run %s, journal %s",
		hosttext.Line(o.Operator), o.PID, hosttext.Line(o.Machine), o.Since.UTC().Format("2006-01-02 15:04:05 UTC"),
		hosttext.Line(o.Runbook), hosttext.Line(o.RunID), hosttext.Line(o.Journal))
}

// Liveness says whether a lock's owner still runs.
type Liveness int

const (
	// Alive: the owner's process runs on this machine.
	Alive Liveness = iota + 1
	// Gone: the owner ran on this machine and its process no longer exists.
	Gone
	// Unknown: the owner runs on another machine (or the lock cannot be read), so
	// nothing here can tell.
	Unknown
)

// Conflict is one host locked by another run.
type Conflict struct {
	Host  string
	Path  string
	Owner *Owner // nil when the lock file could not be read
	Raw   string // the file's content when it could not be read as a lock
	Alive Liveness
	// Own is set when the lock belongs to the same run, held by another live process
	// (the run is being resumed elsewhere right now).
	Own bool
}

// String describes the lock held and by whom, for the refusal message.
func (c *Conflict) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is locked by ", c.Host)
	if c.Owner != nil {
		if c.Own {
			b.WriteString("this same run, held by another process: ")
		} else {
			b.WriteString("another cutover run: ")
		}
		b.WriteString(c.Owner.describe())
	} else {
		fmt.Fprintf(&b, "a lock file cutover cannot read (%.80q)", c.Raw)
	}
	fmt.Fprintf(&b, " [lock file %s on %s]. ", hosttext.Line(c.Path), c.Host)
	switch c.Alive {
	case Alive:
		fmt.Fprintf(&b, "That process is still running on this machine: wait for it to end or stop it; cutover never breaks the lock of a live run.")
	case Gone:
		fmt.Fprintf(&b, "Its process is gone (no process %d on this machine): if that run is abandoned, break the lock with --break-lock \"REASON\" (the reason is journaled).", c.Owner.PID)
	default:
		where := "another machine"
		if c.Owner != nil && c.Owner.Machine != "" {
			where = hosttext.Line(c.Owner.Machine)
		}
		fmt.Fprintf(&b, "cutover cannot tell from here whether it is still going (it runs on %s): ask its operator, and only if it is gone break the lock with --break-lock \"REASON\" (the reason is journaled).", where)
	}
	return b.String()
}

// HeldError refuses a run because hosts are locked. The command line exits 1 for it
// (another operator, not bad input).
type HeldError struct {
	Conflicts []*Conflict
	// Refused is set when --break-lock was given but a lock could not be broken because
	// its owner is alive.
	Refused bool
}

// Error lists every lock that refused the run.
func (e *HeldError) Error() string {
	lines := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		lines[i] = c.String()
	}
	msg := "one run at a time: " + strings.Join(lines, "\n  ")
	if e.Refused {
		msg += "\n  (--break-lock was given, but a lock whose owner is alive is never broken)"
	}
	return msg
}

// Broken is a lock that was broken on request, for the journal.
type Broken struct {
	Host, Path string
	Owner      *Owner
	Raw        string
	Reason     string
}

// Note is the journal line for a broken lock.
func (b Broken) Note() string {
	who := fmt.Sprintf("an unreadable lock (%.80q)", b.Raw)
	if b.Owner != nil {
		who = "the lock of " + b.Owner.describe()
	}
	return fmt.Sprintf("broke %s on %s (%s); reason: %s", who, b.Host, b.Path, b.Reason)
}

// Options are the choices of one Acquire.
type Options struct {
	// Break, when not empty, is the operator's reason to break locks whose owner is
	// gone or cannot be known. Locks of live processes are never broken.
	Break string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Alive reports whether process pid runs on this machine; nil means signal 0.
	Alive func(pid int) bool
}

// Set is the locks a run holds.
type Set struct {
	pool  *probe.Pool
	owner Owner
	held  []held
	// Broken lists the locks broken to take these.
	Broken []Broken
	// TookOver lists hosts whose lock this run held already (a resume).
	TookOver []string
}

type held struct {
	host *probe.Host
	path string
}

// Paths is where a host's lock may be: the inventory's cutover_lock, else .cutover.lock
// in the install folder and, for a host whose install folder does not exist yet, in
// the login's home folder. The first whose folder exists is where a new lock goes;
// every one is looked at for an existing lock.
func Paths(h *probe.Host) []string {
	if v := strings.TrimSpace(h.Vars[HostVar]); v != "" {
		return []string{h.Resolve(v)}
	}
	home := FileName // relative: the SFTP server's start folder, the login's home
	if h.Local {
		if d, err := os.UserHomeDir(); err == nil {
			home = path.Join(strings.ReplaceAll(d, `\`, "/"), FileName)
		}
	}
	if h.InstallDir == "" {
		return []string{home}
	}
	return []string{h.Resolve(FileName), home}
}

// Acquire locks every host for the run me describes. It looks at every host before
// changing any, so a refusal names all the locks in the way and leaves the hosts as
// they were (no lock broken, none taken). Hosts whose lock already belongs to me.RunID
// are taken over (a resume), unless another live process holds them. With opts.Break,
// locks whose owner is gone or cannot be known are broken (Set.Broken lists them for
// the journal); a lock whose owner is alive on this machine never is.
func Acquire(ctx context.Context, pool *probe.Pool, hosts []*probe.Host, me Owner, opts Options) (*Set, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	alive := opts.Alive
	if alive == nil {
		alive = processAlive
	}
	hosts = distinct(hosts)
	me.Since = now().UTC()
	me.PID = os.Getpid()
	if me.MachineID == "" {
		me.MachineID = machineID()
	}
	me.Hosts = nil
	for _, h := range hosts {
		me.Hosts = append(me.Hosts, h.Name)
	}
	content, err := json.MarshalIndent(me, "", "  ")
	if err != nil {
		return nil, err
	}
	content = append(content, '\n')

	s := &Set{pool: pool, owner: me}
	// First look at every host without changing anything: a refused run leaves every
	// host as it found it, and breaks no lock unless it can take them all.
	type look struct {
		h        *probe.Host
		t        probe.Transport
		ec       probe.ExclusiveCreator
		paths    []string
		existing string
		raw      []byte // the existing lock as judged
		conflict *Conflict
	}
	looks := make([]look, 0, len(hosts))
	herr := &HeldError{}
	for _, h := range hosts {
		t, err := pool.Get(ctx, h)
		if err != nil {
			return nil, err
		}
		ec, ok := t.(probe.ExclusiveCreator)
		if !ok {
			return nil, fmt.Errorf("cannot lock %s: its connection cannot create a file exclusively, which a lock needs", h.Name)
		}
		lk := look{h: h, t: t, ec: ec, paths: Paths(h)}
		for _, p := range lk.paths {
			raw, err := readLock(ctx, t, p)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("reading the lock of %s (%s): %w", h.Name, p, err)
			}
			lk.existing, lk.raw, lk.conflict = p, raw, judge(h.Name, p, raw, me, alive)
			break
		}
		if c := lk.conflict; c != nil && (opts.Break == "" || c.Alive == Alive) {
			herr.Conflicts = append(herr.Conflicts, c)
			herr.Refused = herr.Refused || (opts.Break != "" && c.Alive == Alive)
		}
		looks = append(looks, lk)
	}
	if len(herr.Conflicts) > 0 {
		return nil, herr
	}

	var fresh []held
	fail := func(err error) (*Set, error) {
		_ = s.release(context.WithoutCancel(ctx), fresh)
		if len(s.Broken) > 0 {
			// Broken locks stay broken; the operator must hear of them even though the
			// run that broke them never starts (and so journals nothing).
			var names []string
			for _, b := range s.Broken {
				names = append(names, b.Host+" ("+b.Path+")")
			}
			err = fmt.Errorf("%w\n  (before this, the stale locks of %s were broken: %s)", err, strings.Join(names, ", "), opts.Break)
		}
		return nil, err
	}
	for _, lk := range looks {
		h, t := lk.h, lk.t
		if lk.existing != "" {
			// Ours to take over (the same run, its process gone), or breakable and asked
			// for. Either way the old lock is removed, not overwritten, and the new one
			// created exclusively below: of two processes doing this at once (two
			// resumes of one journal, two operators breaking one stale lock) exactly one
			// wins, and the other finds the winner's lock.
			if err := setAside(ctx, t, lk.ec, lk.existing, lk.raw, me); err != nil {
				return fail(fmt.Errorf("replacing the lock of %s (%s): %w", h.Name, lk.existing, err))
			}
			if lk.conflict == nil {
				s.TookOver = append(s.TookOver, h.Name)
			} else {
				s.Broken = append(s.Broken, Broken{Host: h.Name, Path: lk.existing, Owner: lk.conflict.Owner, Raw: lk.conflict.Raw, Reason: opts.Break})
			}
		}
		p, err := create(ctx, t, lk.ec, lk.paths, content)
		if errors.Is(err, fs.ErrExist) {
			raw, rerr := readLock(ctx, t, p)
			if rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				// Not a lock cutover can read (a link planted at its name, say): the
				// exclusive create wrote nothing through it, and the run stops here.
				return fail(fmt.Errorf("locking %s: %w", h.Name, rerr))
			}
			if c := judge(h.Name, p, raw, me, alive); c != nil {
				// Someone else locked it between our look and our create: theirs.
				return fail(&HeldError{Conflicts: []*Conflict{c}})
			}
			// Ours: two inventory names of one machine share the lock file.
			s.held = append(s.held, held{h, p})
			continue
		}
		if err != nil {
			return fail(fmt.Errorf("locking %s: %w", h.Name, err))
		}
		fresh = append(fresh, held{h, p})
		s.held = append(s.held, held{h, p})
	}
	return s, nil
}

// setAside removes the lock at p, judged as raw, so that a new one can be created in
// its place. Only one process at a time may do this for a given lock: it first creates
// p.breaking exclusively, then removes the lock only if it is still the very lock it
// judged. Of two operators breaking one stale lock (or two resumes taking over one run's
// lock) the second finds either the mutex, a changed lock, or no lock, and then the
// exclusive create decides; a lock is never removed by a process that did not judge it.
func setAside(ctx context.Context, t probe.Transport, ec probe.ExclusiveCreator, p string, raw []byte, me Owner) error {
	mutex := p + ".breaking"
	w, err := ec.CreateExclusive(ctx, mutex, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("another cutover run is replacing this lock right now (%s exists; if no run is, remove that file)", mutex)
	}
	if err != nil {
		return err
	}
	_, werr := fmt.Fprintf(w, "%s, pid %d, run %s\n", me.Operator, me.PID, me.RunID)
	if err := errors.Join(werr, w.Close()); err != nil {
		_ = t.Remove(ctx, mutex)
		return err
	}
	defer func() { _ = t.Remove(context.WithoutCancel(ctx), mutex) }()
	cur, err := readLock(ctx, t, p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // removed meanwhile; the exclusive create decides
	case err != nil:
		return err
	case !bytes.Equal(cur, raw):
		return errors.New("the lock changed while it was being replaced: another cutover run took it; look again")
	}
	return t.Remove(ctx, p)
}

// judge decides what an existing lock means for me: nil when it is mine to take over.
func judge(host, p string, raw []byte, me Owner, alive func(int) bool) *Conflict {
	c := &Conflict{Host: host, Path: p, Alive: Unknown}
	o := &Owner{}
	if err := json.Unmarshal(bytes.TrimSpace(raw), o); err != nil || o.RunID == "" {
		c.Raw = string(raw)
		return c
	}
	c.Owner = o
	self := false
	sameMachine := o.Machine == me.Machine && o.Machine != "" &&
		(o.MachineID == "" || me.MachineID == "" || o.MachineID == me.MachineID)
	if sameMachine && o.PID > 0 {
		switch {
		case o.PID == os.Getpid():
			self, c.Alive = true, Alive
		case alive(o.PID):
			c.Alive = Alive
		default:
			c.Alive = Gone
		}
	}
	if o.RunID == me.RunID {
		// The same run: a resume takes over the lock when the process that held it is
		// gone (or is this one). A live process of this machine is resuming the run right
		// now; one on another machine may be: both are refused like any other lock.
		if self || c.Alive == Gone {
			return nil
		}
		c.Own = true
	}
	return c
}

// create makes the lock at the first candidate path whose folder exists.
func create(ctx context.Context, t probe.Transport, ec probe.ExclusiveCreator, paths []string, content []byte) (string, error) {
	var last error
	for _, p := range paths {
		if dir := path.Dir(p); dir != "." {
			fi, err := t.Stat(ctx, dir)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				// Unreadable is not absent: falling back to another place here would let
				// two runs lock the same host in two places.
				return p, fmt.Errorf("looking at %s: %w", dir, err)
			}
			if err != nil || !fi.IsDir() {
				last = fmt.Errorf("folder %s does not exist", dir)
				continue
			}
		}
		w, err := ec.CreateExclusive(ctx, p, 0o644)
		if err != nil {
			return p, err
		}
		if _, err := w.Write(content); err != nil {
			_ = w.Close()
			_ = t.Remove(ctx, p)
			return p, err
		}
		if err := w.Close(); err != nil {
			_ = t.Remove(ctx, p)
			return p, err
		}
		return p, nil
	}
	return "", fmt.Errorf("no place for the lock file: %w (set the host variable %s in the inventory)", last, HostVar)
}

// readLock reads the lock at p. A lock is created empty and written a moment later, so
// an empty file is read again a few times before it counts as empty: judged while it
// is being written, a live lock would look like junk that --break-lock may remove.
func readLock(ctx context.Context, t probe.Transport, p string) ([]byte, error) {
	for wait := 20 * time.Millisecond; ; wait *= 2 {
		raw, err := readLockOnce(ctx, t, p)
		if err != nil || len(raw) > 0 || wait > 500*time.Millisecond {
			return raw, err
		}
		select {
		case <-ctx.Done():
			return raw, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// maxLockFile bounds what cutover reads of a lock file; its own are a few hundred bytes.
const maxLockFile = 64 << 10

// readLockOnce reads the lock at p. Only a regular file is a lock: a symbolic link there
// (planted, since cutover creates the lock exclusively and O_EXCL never follows a link)
// is refused without reading what it points to, and so is a file over maxLockFile.
func readLockOnce(ctx context.Context, t probe.Transport, p string) ([]byte, error) {
	fi, err := t.Lstat(ctx, p)
	if err != nil {
		return nil, err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		to, _ := t.ReadLink(ctx, p)
		return nil, fmt.Errorf("%s is a symbolic link (to %s), not a lock cutover made; cutover does not follow it: find out who put it there and remove it", p, to)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file (%s), so not a lock cutover made: remove it", p, fi.Mode().Type())
	case fi.Size() > maxLockFile:
		return nil, fmt.Errorf("%s is %d bytes, larger than %d KiB, the most cutover reads of a lock file: not a lock cutover made", p, fi.Size(), maxLockFile>>10)
	}
	f, err := t.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxLockFile+1))
	if err == nil && len(raw) > maxLockFile {
		err = fmt.Errorf("%s grew past %d KiB, the most cutover reads of a lock file: not a lock cutover made", p, maxLockFile>>10)
	}
	return raw, err
}

// Hosts are the hosts locked, in order.
func (s *Set) Hosts() []string {
	out := make([]string, len(s.held))
	for i, h := range s.held {
		out[i] = h.host.Name
	}
	return out
}

// Note is the journal line for the locks taken.
func (s *Set) Note() string {
	parts := make([]string, len(s.held))
	for i, h := range s.held {
		parts[i] = h.host.Name + " (" + h.path + ")"
	}
	verb := "locked"
	if len(s.TookOver) == len(s.held) && len(s.held) > 0 {
		verb = "took over the locks of"
	}
	return fmt.Sprintf("%s %s for %s, pid %d", verb, strings.Join(parts, ", "), s.owner.Operator, s.owner.PID)
}

// Release removes the locks, each only if it still belongs to this run.
func (s *Set) Release(ctx context.Context) error {
	if s == nil {
		return nil
	}
	err := s.release(ctx, s.held)
	s.held = nil
	return err
}

func (s *Set) release(ctx context.Context, hs []held) error {
	var errs []error
	for _, h := range hs {
		t, err := s.pool.Get(ctx, h.host)
		if err != nil {
			errs = append(errs, fmt.Errorf("releasing the lock of %s: %w", h.host.Name, err))
			continue
		}
		raw, err := readLock(ctx, t, h.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		o := &Owner{}
		if err != nil || json.Unmarshal(bytes.TrimSpace(raw), o) != nil || o.RunID != s.owner.RunID ||
			o.PID != s.owner.PID || o.Machine != s.owner.Machine {
			// Not ours any more: broken and taken by someone else, or taken over by a
			// resume of this run elsewhere. Leave it.
			continue
		}
		if err := t.Remove(ctx, h.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("releasing the lock of %s (%s): %w", h.host.Name, h.path, err))
		}
	}
	return errors.Join(errs...)
}

func distinct(hosts []*probe.Host) []*probe.Host {
	seen := map[string]bool{}
	var out []*probe.Host
	for _, h := range hosts {
		if h != nil && !seen[h.Name] {
			seen[h.Name] = true
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
