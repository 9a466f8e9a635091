package steps

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/ini"
)

// ActionSpec is one kind of action. plan says exactly what will happen, and is journaled
// before anything is done; run does it and reports the outcome.
type ActionSpec interface {
	compile(c *compiler, a *Action)
	plan(x *stepExec) (ActionRecord, error)
	run(ctx context.Context, x *stepExec, rec *ActionRecord)
}

var actionRegistry = map[string]func() ActionSpec{
	"run":     func() ActionSpec { return &RunAction{} },
	"service": func() ActionSpec { return &ServiceAction{} },
	"ini":     func() ActionSpec { return &INIAction{} },
	"copy":    func() ActionSpec { return &CopyAction{} },
	"write":   func() ActionSpec { return &WriteAction{} },
	"preseed": func() ActionSpec { return &PreseedAction{} },
	"restore": func() ActionSpec { return &RestoreAction{} },
	"discard": func() ActionSpec { return &DiscardAction{} },
}

func actionKinds() []string {
	out := make([]string, 0, len(actionRegistry))
	for k := range actionRegistry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// RunAction runs a command on a role's host.
type RunAction struct {
	Role       Ref       `yaml:"role"`
	Run        *Template `yaml:"command"`
	PowerShell *Template `yaml:"powershell"`
	// Exit lists the exit codes that mean success (default: 0).
	Exit    []int    `yaml:"exit"`
	Timeout Duration `yaml:"timeout"`
}

func (a *RunAction) compile(c *compiler, act *Action) {
	c.role(a.Role, "role", act.Pos)
	c.commands(a.Run, a.PowerShell, "command", "powershell", act.Pos, false)
}

func (a *RunAction) plan(x *stepExec) (ActionRecord, error) {
	cmd, err := commandFor(x, a.Role.Name, a.Run, a.PowerShell)
	h := x.host(a.Role.Name)
	rec := ActionRecord{Kind: "run", Hosts: []string{h.Name}, Summary: fmt.Sprintf("run a command on %s", h.Name)}
	if err != nil {
		return rec, err
	}
	rec.Commands = []string{x.redact(cmd)}
	return rec, nil
}

func (a *RunAction) run(ctx context.Context, x *stepExec, rec *ActionRecord) {
	cmd, err := commandFor(x, a.Role.Name, a.Run, a.PowerShell)
	if err != nil {
		rec.Error = err.Error()
		return
	}
	if a.Timeout.D > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.Timeout.D)
		defer cancel()
	}
	ok := []int{0}
	if len(a.Exit) > 0 {
		ok = a.Exit
	}
	runCommand(ctx, x, a.Role.Name, cmd, ok, rec)
}

// runCommand runs cmd on the role's host, streaming output as progress and keeping the
// last lines (secrets removed) in the record.
func runCommand(ctx context.Context, x *stepExec, role, cmd string, okCodes []int, rec *ActionRecord) {
	t, h, err := x.conn(ctx, role)
	if err != nil {
		rec.Error, rec.Unreachable = err.Error(), probe.IsConnectionError(err)
		return
	}
	lw := &lineWriter{emit: func(line string) {
		x.progress(Progress{Host: h.Name, Line: x.redact(line)})
	}, keep: 40}
	code, err := t.Run(ctx, cmd, lw, lw)
	lw.flush()
	rec.Output = append(rec.Output, prefixLines(h.Name, x.redact(strings.Join(lw.last, "\n")))...)
	if err != nil {
		rec.Error = fmt.Sprintf("%s: %v", h.Name, err)
		rec.Unreachable = probe.IsConnectionError(err)
		rec.Unknown = rec.Unreachable // the command was sent: it may have run
		return
	}
	c := code
	rec.ExitCode = &c
	for _, ok := range okCodes {
		if code == ok {
			rec.OK = true
			return
		}
	}
	rec.Error = fmt.Sprintf("%s: exit code %d (expected %s)", h.Name, code, joinInts(okCodes))
}

func prefixLines(host, s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = host + ": " + l
	}
	return lines
}

func joinInts(n []int) string {
	s := make([]string, len(n))
	for i, v := range n {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, " or ")
}

// maxLine bounds one line of command output: a host that prints without ever ending a
// line must not grow the operator's memory. What goes past it is left out, and the
// line says so.
const maxLine = 64 << 10

// lineWriter splits a stream into lines, emits each as it completes and keeps the last
// few. Output from stdout and stderr arrives concurrently, hence the lock. A line longer
// than maxLine is emitted cut, and the rest of it is dropped up to its end.
type lineWriter struct {
	mu   sync.Mutex
	emit func(string)
	keep int
	part []byte
	last []string
	// cut counts the bytes dropped from the line under way.
	cut int64
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if room := maxLine - len(w.part); room > 0 {
			take := min(room, len(chunk))
			w.part = append(w.part, chunk[:take]...)
			w.cut += int64(len(chunk) - take)
		} else {
			w.cut += int64(len(chunk))
		}
		if i < 0 {
			break
		}
		w.endLine()
		p = p[i+1:]
	}
	return n, nil
}

// endLine emits the line under way.
func (w *lineWriter) endLine() {
	l := strings.TrimRight(string(w.part), "\r")
	if w.cut > 0 {
		l += fmt.Sprintf(" [line cut: %d more bytes without a newline]", w.cut)
	}
	w.line(l)
	w.part, w.cut = w.part[:0], 0
}

func (w *lineWriter) line(l string) {
	w.emit(l)
	w.last = append(w.last, l)
	if len(w.last) > w.keep {
		w.last = w.last[len(w.last)-w.keep:]
	}
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.part) > 0 || w.cut > 0 {
		w.endLine()
	}
}

// ServiceAction starts or stops a service on the hosts of the roles, through the
// commands the inventory gives for each host. Hosts are handled one after another in
// the order the roles are listed, each once even when several roles share it.
type ServiceAction struct {
	Roles Refs   `yaml:"roles"`
	Name  string `yaml:"name"`
	Do    string `yaml:"do"`
	// Timeout bounds each host's command (default defaultServiceTimeout): a start that
	// hangs must not hold the run forever.
	Timeout Duration `yaml:"timeout"`
}

// defaultServiceTimeout bounds a service command when the runbook gives no timeout.
const defaultServiceTimeout = 10 * time.Minute

func (a *ServiceAction) timeout() time.Duration {
	if a.Timeout.D > 0 {
		return a.Timeout.D
	}
	return defaultServiceTimeout
}

func (a *ServiceAction) compile(c *compiler, act *Action) {
	c.roles(a.Roles, "roles", act.Pos)
	if a.Name == "" {
		c.errorf(act.Pos, "name (the service, as the inventory calls it) is required")
	}
	if a.Do != "start" && a.Do != "stop" {
		c.errorf(act.Pos, "do must be start or stop, not %q", a.Do)
	}
}

func (a *ServiceAction) command(h *probe.Host) (string, error) {
	if h.Services == nil {
		// Not an inventory host (a plan exported without an inventory): say where the
		// command will come from instead of failing.
		return fmt.Sprintf("(the inventory's %s %s command)", a.Name, a.Do), nil
	}
	svc, ok := h.Services[a.Name]
	if !ok {
		return "", fmt.Errorf("the inventory gives no %s service commands for %s", a.Name, h.Name)
	}
	cmd := svc.Stop
	if a.Do == "start" {
		cmd = svc.Start
	}
	if strings.TrimSpace(cmd) == "" {
		// An empty command would "succeed" without doing anything.
		return "", fmt.Errorf("the inventory gives no %s command for the %s service of %s", a.Do, a.Name, h.Name)
	}
	return cmd, nil
}

func (a *ServiceAction) plan(x *stepExec) (ActionRecord, error) {
	rec := ActionRecord{Kind: "service"}
	var errs []string
	for _, role := range distinctRoles(x, a.Roles) {
		h := x.host(role)
		rec.Hosts = append(rec.Hosts, h.Name)
		cmd, err := a.command(h)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		rec.Commands = append(rec.Commands, h.Name+": "+cmd)
	}
	rec.Summary = fmt.Sprintf("%s %s on %s", a.Do, a.Name, strings.Join(rec.Hosts, ", "))
	if a.Timeout.D > 0 {
		rec.Summary += fmt.Sprintf(" (each within %s)", a.Timeout.D)
	}
	if len(errs) > 0 {
		return rec, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return rec, nil
}

func (a *ServiceAction) run(ctx context.Context, x *stepExec, rec *ActionRecord) {
	rec.OK = true
	for _, role := range distinctRoles(x, a.Roles) {
		cmd, err := a.command(x.host(role))
		if err != nil {
			rec.OK, rec.Error = false, err.Error()
			return
		}
		one := ActionRecord{}
		before := serviceStateNow(ctx, x, role, a.Name)
		cctx, cancel := context.WithTimeout(ctx, a.timeout())
		runCommand(cctx, x, role, cmd, []int{0}, &one)
		if cctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			one.Error = fmt.Sprintf("%s: the %s command of %s did not end within %s (the action's timeout)", x.host(role).Name, a.Do, a.Name, a.timeout())
		}
		cancel()
		rec.Output = append(rec.Output, one.Output...)
		if !one.OK {
			// Stop at the first failure: the operator decides before the rest are touched.
			rec.OK, rec.Error, rec.ExitCode, rec.Unreachable, rec.Unknown = false, one.Error, one.ExitCode, one.Unreachable, one.Unknown
			return
		}
		if want := map[string]string{"start": "running", "stop": "stopped"}[a.Do]; before != want {
			rec.Undo = append(rec.Undo, Undo{Kind: UndoService, Role: role, Host: x.host(role).Name, Service: a.Name, State: before})
		}
	}
}

// INIAction sets and removes keys in an INI file. The original is kept beside the file,
// the new content is written to a temporary file and renamed over the old one, and only
// the lines of the changed keys differ.
type INIAction struct {
	Role    Ref         `yaml:"role"`
	File    *Template   `yaml:"file"`
	Section string      `yaml:"section"`
	Set     Assignments `yaml:"set"`
	Unset   []string    `yaml:"unset"`
	// Format is the file's dialect (ini or properties); empty means by its name, so
	// Maestro's files are written as Java properties, escapes and all.
	Format INIFormat `yaml:"format"`
}

func (a *INIAction) compile(c *compiler, act *Action) {
	c.role(a.Role, "role", act.Pos)
	c.tmpl(a.File, "file", act.Pos, true)
	a.Format.compile(c, act.Pos)
	if a.Section != "" && a.Format == "properties" {
		c.errorf(act.Pos, "a properties file has no sections: remove section: or give format: ini")
	}
	if len(a.Set) == 0 && len(a.Unset) == 0 {
		c.errorf(act.Pos, "nothing to do: give set: or unset:")
	}
	seen := map[string]bool{}
	for _, s := range a.Set {
		if seen[strings.ToLower(s.Key)] {
			c.errorf(s.Pos, "key %s is set twice", s.Key)
		}
		seen[strings.ToLower(s.Key)] = true
		c.tmpl(s.Value, "value of "+s.Key, s.Pos, false)
	}
	for _, k := range a.Unset {
		if seen[strings.ToLower(k)] {
			c.errorf(act.Pos, "key %s is both set and unset", k)
		}
	}
}

func (a *INIAction) plan(x *stepExec) (ActionRecord, error) {
	h := x.host(a.Role.Name)
	rec := ActionRecord{Kind: "ini", Hosts: []string{h.Name}}
	file := x.mustRender(a.File)
	rec.Summary = fmt.Sprintf("edit %s on %s", file, h.Name)
	if a.Section != "" {
		rec.Changes = append(rec.Changes, "["+a.Section+"]")
	}
	for _, s := range a.Set {
		v, err := x.render(s.Value)
		if err != nil {
			return rec, err
		}
		rec.Changes = append(rec.Changes, s.Key+"="+x.redact(v))
	}
	for _, k := range a.Unset {
		rec.Changes = append(rec.Changes, "; remove "+k)
	}
	return rec, checkPlanned(h, h.Resolve(file), "the INI file")
}

// fileTarget connects to the host of role and resolves file there, for an action that
// changes that file: the path passes the path rules and, if it is itself a symbolic
// link, is refused (safeTarget), and the path returned is the one to act on. fail
// records an error about the file; ok is false when the action cannot start (rec says
// why).
func (x *stepExec) fileTarget(ctx context.Context, role string, file *Template, what string, rec *ActionRecord) (t probe.Transport, h *probe.Host, p string, fail func(error), ok bool) {
	t, h, err := x.conn(ctx, role)
	if err != nil {
		rec.Error, rec.Unreachable = err.Error(), probe.IsConnectionError(err)
		return nil, nil, "", nil, false
	}
	if p, err = x.path(file, role); err != nil {
		rec.Error = err.Error()
		return nil, nil, "", nil, false
	}
	fail = func(err error) {
		rec.Error = err.Error()
		if !strings.HasPrefix(rec.Error, h.Name+":") {
			rec.Error = fmt.Sprintf("%s:%s: %v", h.Name, p, err)
		}
		rec.Unreachable = probe.IsConnectionError(err)
		rec.Unknown = rec.Unreachable // the connection died with the change under way
	}
	if p, err = safeTarget(ctx, t, h, p, targetOpts{What: what, Hint: "(name the file it points to by its own path)"}); err != nil {
		fail(err)
		return nil, nil, "", nil, false
	}
	return t, h, p, fail, true
}

func (a *INIAction) run(ctx context.Context, x *stepExec, rec *ActionRecord) {
	t, h, p, fail, ok := x.fileTarget(ctx, a.Role.Name, a.File, "the INI file", rec)
	if !ok {
		return
	}
	fi, err := t.Lstat(ctx, p)
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("it is not a regular file (%s)", describeMode(fi.Mode()))
	}
	var old []byte
	if err == nil {
		old, err = readSmallFile(ctx, t, p)
	}
	if err != nil {
		fail(err)
		return
	}
	f := ini.ParseAs(old, a.Format.of(p))
	for _, s := range a.Set {
		v, err := x.render(s.Value)
		if err == nil {
			err = f.Set(a.Section, s.Key, v)
		}
		if err != nil {
			fail(err)
			return
		}
	}
	for _, k := range a.Unset {
		f.Unset(a.Section, k)
	}
	updated := f.Bytes()
	rec.Changes = diffChanges(x, old, updated)
	if bytes.Equal(old, updated) {
		rec.OK = true
		rec.Changes = []string{"already as wanted: nothing written"}
		return
	}
	kept, err := putFile(ctx, t, fileWrite{Host: h.Name, Path: p, Data: updated, Perm: fi.Mode().Perm(), KeepRun: x.runID, Orig: old})
	if err != nil {
		fail(err)
		return
	}
	rec.Changes = append(rec.Changes, "original kept as "+kept)
	rec.Undo = append(rec.Undo, Undo{Kind: UndoFile, Role: a.Role.Name, Host: h.Name, Path: p, Kept: kept})
	rec.OK = true
}

// diffChanges describes, line by line, how updated differs from old, secrets removed.
func diffChanges(x *stepExec, old, updated []byte) []string {
	var out []string
	for _, c := range ini.Diff(old, updated) {
		switch {
		case c.Old == "":
			out = append(out, fmt.Sprintf("+ %s", x.redact(c.New)))
		case c.New == "":
			out = append(out, fmt.Sprintf("- %s", x.redact(c.Old)))
		default:
			out = append(out, fmt.Sprintf("line %d: %s -> %s", c.Line, x.redact(c.Old), x.redact(c.New)))
		}
	}
	return out
}
