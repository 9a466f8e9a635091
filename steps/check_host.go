package steps

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/ini"
	"github.com/cutover/cutover/probe/yamlpos"
)

// INICheck passes when an INI key has the expected value (or is absent).
type INICheck struct {
	Role    Ref       `yaml:"role"`
	File    *Template `yaml:"file"`
	Section string    `yaml:"section"`
	Key     string    `yaml:"key"`
	Equals  *Template `yaml:"equals"`
	Absent  bool      `yaml:"absent"`
	// IgnoreCase compares values without regard to case (host names).
	IgnoreCase bool `yaml:"ignore_case"`
	// Format is the file's dialect: ini, or properties (Java properties, as Maestro
	// reads its lui.ini, hub.ini and tracker.ini). Empty means by the file's name.
	Format INIFormat `yaml:"format"`
	// Matches, instead of equals, demands the value match a regular expression (one of
	// several database products, say).
	Matches *Pattern `yaml:"matches"`
	// Calibrate says the key's name rests on assumptions no vendor document gives: the
	// preflight looks for it in the file before the run changes anything.
	Calibrate *Calibration `yaml:"calibrate"`
}

func (k *INICheck) compile(c *compiler, ch *Check) {
	c.role(k.Role, "role", ch.Pos)
	c.tmpl(k.File, "file", ch.Pos, true)
	k.Format.compile(c, ch.Pos)
	if k.Key == "" {
		c.errorf(ch.Pos, "key is required")
	}
	c.tmpl(k.Equals, "equals", ch.Pos, false)
	n := 0
	for _, given := range []bool{k.Absent, !k.Equals.IsZero(), k.Matches != nil} {
		if given {
			n++
		}
	}
	if n != 1 {
		c.errorf(ch.Pos, "give exactly one of equals:, matches: and absent: true")
	}
	k.Calibrate.compile(c, ch)
	if k.Calibrate != nil && k.Calibrate.Files != 0 {
		c.errorf(ch.Pos, "calibrate.files is for log gates: an INI key is looked for in the file as it is")
	}
}

func (k *INICheck) keyName() string {
	if k.Section != "" {
		return "[" + k.Section + "] " + k.Key
	}
	return k.Key
}

func (k *INICheck) describe(x *stepExec) string {
	where := fmt.Sprintf("%s in %s:%s", k.keyName(), x.host(k.Role.Name).Name, x.mustRender(k.File))
	if k.Absent {
		return where + " is not set"
	}
	if k.Matches != nil {
		return fmt.Sprintf("%s matches /%s/", where, k.Matches.text(x))
	}
	return fmt.Sprintf("%s is %q", where, x.mustRender(k.Equals))
}

func (k *INICheck) eval(ctx context.Context, x *stepExec) CheckResult {
	t, h, err := x.conn(ctx, k.Role.Name)
	if err != nil {
		return errResult(err, x.host(k.Role.Name).Name)
	}
	p, err := x.path(k.File, k.Role.Name)
	if err != nil {
		return errResult(err, h.Name)
	}
	data, err := readSmallFile(ctx, t, p)
	r := CheckResult{Hosts: []string{h.Name}}
	if err != nil {
		if isNotExist(err) {
			r.Status, r.Summary = Fail, fmt.Sprintf("%s does not exist on %s", p, h.Name)
			r.Evidence = []string{fmt.Sprintf("%s:%s: no such file", h.Name, p)}
			return r
		}
		return errResult(fmt.Errorf("%s:%s: %w", h.Name, p, err), h.Name)
	}
	got, ok := ini.ParseAs(data, k.Format.of(p)).Get(k.Section, k.Key)
	if ok {
		r.Evidence = []string{fmt.Sprintf("%s:%s: %s=%s", h.Name, p, k.keyName(), x.redact(got))}
	} else {
		r.Evidence = []string{fmt.Sprintf("%s:%s: %s is not set", h.Name, p, k.keyName())}
	}
	if k.Absent {
		if ok {
			r.Status, r.Summary = Fail, fmt.Sprintf("%s is still set in %s on %s", k.keyName(), p, h.Name)
		} else {
			r.Status, r.Summary = Pass, fmt.Sprintf("%s is not set in %s on %s", k.keyName(), p, h.Name)
		}
		return r
	}
	if k.Matches != nil {
		re, err := k.Matches.regexp(x)
		if err != nil {
			return errResult(err, h.Name)
		}
		switch {
		case !ok:
			r.Status, r.Summary = Fail, fmt.Sprintf("%s is not set in %s on %s (want a value matching /%s/)", k.keyName(), p, h.Name, k.Matches.text(x))
		case !re.MatchString(got):
			r.Status, r.Summary = Fail, fmt.Sprintf("%s is %q in %s on %s, which does not match /%s/", k.keyName(), x.redact(got), p, h.Name, k.Matches.text(x))
		default:
			r.Status, r.Summary = Pass, fmt.Sprintf("%s=%s in %s on %s", k.keyName(), x.redact(got), p, h.Name)
		}
		return r
	}
	want, err := x.render(k.Equals)
	if err != nil {
		return errResult(err, h.Name)
	}
	same := got == want || (k.IgnoreCase && strings.EqualFold(got, want))
	switch {
	case !ok:
		r.Status, r.Summary = Fail, fmt.Sprintf("%s is not set in %s on %s (want %q)", k.keyName(), p, h.Name, x.redact(want))
	case !same:
		r.Status, r.Summary = Fail, fmt.Sprintf("%s is %q in %s on %s, want %q", k.keyName(), x.redact(got), p, h.Name, x.redact(want))
	default:
		r.Status, r.Summary = Pass, fmt.Sprintf("%s=%s in %s on %s", k.keyName(), x.redact(got), p, h.Name)
	}
	return r
}

// INIFormat names an INI file's dialect in a runbook: "ini", "properties", or empty for
// the dialect the file's name implies (probe.INIDialect).
type INIFormat string

func (f INIFormat) compile(c *compiler, pos yamlpos.Pos) {
	if f != "" {
		if _, err := ini.ParseDialect(string(f)); err != nil {
			c.errorf(pos, "format: %v", err)
		}
	}
}

// of is the dialect to read and write file with.
func (f INIFormat) of(file string) ini.Dialect {
	if d, err := ini.ParseDialect(string(f)); err == nil {
		return d
	}
	return probe.INIDialect(file)
}

// CommandCheck runs a read-only command and checks its exit code and output.
type CommandCheck struct {
	Role Ref       `yaml:"role"`
	Run  *Template `yaml:"run"`
	// PowerShell is the command's form for hosts whose shell is PowerShell.
	PowerShell        *Template `yaml:"powershell"`
	Exit              *int      `yaml:"exit"`
	OutputContains    Patterns  `yaml:"output_contains"`
	OutputNotContains Patterns  `yaml:"output_not_contains"`
	Timeout           Duration  `yaml:"timeout"`
}

func (k *CommandCheck) compile(c *compiler, ch *Check) {
	c.role(k.Role, "role", ch.Pos)
	c.commands(k.Run, k.PowerShell, "run", "powershell", ch.Pos, false)
}

func (k *CommandCheck) wantExit() int {
	if k.Exit == nil {
		return 0
	}
	return *k.Exit
}

func (k *CommandCheck) describe(x *stepExec) string {
	cmd, _ := commandFor(x, k.Role.Name, k.Run, k.PowerShell)
	s := fmt.Sprintf("on %s, `%s` exits %d", x.host(k.Role.Name).Name, cmd, k.wantExit())
	for _, p := range k.OutputContains {
		s += fmt.Sprintf(", output contains /%s/", p.text(x))
	}
	for _, p := range k.OutputNotContains {
		s += fmt.Sprintf(", output does not contain /%s/", p.text(x))
	}
	return s
}

// commandFor picks the form of a command that suits the role's host's shell.
func commandFor(x *stepExec, role string, sh, ps *Template) (string, error) {
	h := x.host(role)
	if h.PowerShell() {
		if ps.IsZero() {
			return "", fmt.Errorf("%s runs PowerShell and this command has no powershell: form", h.Name)
		}
		return x.render(ps)
	}
	if sh.IsZero() {
		return "", fmt.Errorf("%s runs a POSIX shell and this command has only a powershell: form", h.Name)
	}
	return x.render(sh)
}

func (k *CommandCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	t, h, err := x.conn(ctx, k.Role.Name)
	if err != nil {
		return errResult(err, x.host(k.Role.Name).Name)
	}
	cmd, err := commandFor(x, k.Role.Name, k.Run, k.PowerShell)
	if err != nil {
		return errResult(err, h.Name)
	}
	if k.Timeout.D > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, k.Timeout.D)
		defer cancel()
	}
	code, out, err := capture(ctx, t, cmd)
	if err != nil {
		return errResult(fmt.Errorf("%s: %w", h.Name, err), h.Name)
	}
	r := CheckResult{Hosts: []string{h.Name}}
	r.Evidence = append([]string{fmt.Sprintf("%s$ %s  (exit %d)", h.Name, x.redact(cmd), code)}, tailLines(x.redact(out), 20)...)
	var problems []string
	if code != k.wantExit() {
		problems = append(problems, fmt.Sprintf("exit code %d, want %d", code, k.wantExit()))
	}
	want, err := k.OutputContains.regexps(x)
	if err != nil {
		return errResult(err, h.Name)
	}
	unwanted, err := k.OutputNotContains.regexps(x)
	if err != nil {
		return errResult(err, h.Name)
	}
	for i, re := range want {
		if !re.MatchString(out) {
			problems = append(problems, fmt.Sprintf("output lacks /%s/", k.OutputContains[i].text(x)))
		}
	}
	for i, re := range unwanted {
		if re.MatchString(out) {
			problems = append(problems, fmt.Sprintf("output has /%s/", k.OutputNotContains[i].text(x)))
		}
	}
	if len(problems) > 0 {
		r.Status, r.Summary = Fail, fmt.Sprintf("%s on %s: %s", firstWord(cmd), h.Name, strings.Join(problems, "; "))
	} else {
		r.Status, r.Summary = Pass, fmt.Sprintf("%s on %s exited %d", firstWord(cmd), h.Name, code)
	}
	return r
}

// capture runs a command and returns its exit code and combined output, capped so a
// chatty command cannot fill memory.
func capture(ctx context.Context, t probe.Transport, cmd string) (int, string, error) {
	var out capped
	out.limit = 256 << 10
	code, err := t.Run(ctx, cmd, &out, &out)
	return code, out.String(), err
}

// capped keeps the last limit bytes written to it.
type capped struct {
	buf   []byte
	limit int
}

func (c *capped) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	if len(c.buf) > c.limit {
		c.buf = c.buf[len(c.buf)-c.limit:]
	}
	return len(p), nil
}

func (c *capped) String() string { return string(c.buf) }

func tailLines(s string, n int) []string {
	lines := splitLogLines([]byte(s))
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... %d earlier lines", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return lines
}

func firstWord(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) == 0 {
		return cmd
	}
	return f[0]
}

// ServiceCheck passes when a service is running (or stopped) on every host of the
// roles, asked through the status command the inventory gives for each host.
type ServiceCheck struct {
	Roles Refs   `yaml:"roles"`
	Name  string `yaml:"name"`
	State string `yaml:"state"`
}

func (k *ServiceCheck) compile(c *compiler, ch *Check) {
	c.roles(k.Roles, "roles", ch.Pos)
	if k.Name == "" {
		c.errorf(ch.Pos, "name (the service, as the inventory calls it) is required")
	}
	if k.State != "running" && k.State != "stopped" {
		c.errorf(ch.Pos, "state must be running or stopped, not %q", k.State)
	}
}

func (k *ServiceCheck) describe(x *stepExec) string {
	return fmt.Sprintf("%s is %s on %s", k.Name, k.State, strings.Join(hostNames(x, k.Roles), ", "))
}

// hostNames lists the distinct hosts behind roles, in order: two roles may share a host.
func hostNames(x *stepExec, roles Refs) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range roles {
		n := x.host(r.Name).Name
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// distinctRoles returns one role per distinct host, in order.
func distinctRoles(x *stepExec, roles Refs) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range roles {
		n := x.host(r.Name).Name
		if !seen[n] {
			seen[n] = true
			out = append(out, r.Name)
		}
	}
	return out
}

func (k *ServiceCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	r := CheckResult{Status: Pass}
	var bad []string
	for _, role := range distinctRoles(x, k.Roles) {
		h := x.host(role)
		r.Hosts = append(r.Hosts, h.Name)
		svc, ok := h.Services[k.Name]
		if ok && strings.TrimSpace(svc.Status) == "" {
			// An empty command exits 0, which would read as "running".
			r.Status = Error
			r.Evidence = append(r.Evidence, fmt.Sprintf("%s: the inventory gives no status command for the %s service", h.Name, k.Name))
			bad = append(bad, h.Name)
			continue
		}
		if !ok {
			r.Status = Error
			r.Evidence = append(r.Evidence, fmt.Sprintf("%s: the inventory gives no %s service commands", h.Name, k.Name))
			bad = append(bad, h.Name)
			continue
		}
		t, _, err := x.conn(ctx, role)
		if err != nil {
			res := errResult(err, h.Name)
			res.Hosts = r.Hosts
			res.Evidence = append(r.Evidence, fmt.Sprintf("%s: %v", h.Name, err))
			return res
		}
		code, out, err := capture(ctx, t, svc.Status)
		if err != nil {
			res := errResult(fmt.Errorf("%s: %w", h.Name, err), h.Name)
			res.Hosts = r.Hosts
			return res
		}
		state := probe.ServiceState(strconv.Itoa(code))
		line := fmt.Sprintf("%s$ %s  (exit %d: %s)", h.Name, svc.Status, code, state)
		if o := strings.TrimSpace(out); o != "" {
			line += " " + lastLine(o)
		}
		r.Evidence = append(r.Evidence, line)
		if state != k.State {
			bad = append(bad, h.Name)
			if r.Status == Pass {
				r.Status = Fail
			}
		}
	}
	if len(bad) > 0 {
		r.Summary = fmt.Sprintf("%s is not %s on %s", k.Name, k.State, strings.Join(bad, ", "))
	} else {
		r.Summary = fmt.Sprintf("%s is %s on %s", k.Name, k.State, strings.Join(r.Hosts, ", "))
	}
	return r
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// TCPCheck passes when a TCP connection from the role's host to host:port opens (or,
// with expect: closed, when it does not).
type TCPCheck struct {
	From    Ref       `yaml:"from"`
	Host    *Template `yaml:"host"`
	Port    *Template `yaml:"port"`
	Expect  string    `yaml:"expect"`
	Timeout Duration  `yaml:"timeout"`
}

func (k *TCPCheck) compile(c *compiler, ch *Check) {
	c.role(k.From, "from", ch.Pos)
	c.tmpl(k.Host, "host", ch.Pos, true)
	c.tmpl(k.Port, "port", ch.Pos, true)
	if k.Expect != "" && k.Expect != "open" && k.Expect != "closed" {
		c.errorf(ch.Pos, "expect must be open or closed, not %q", k.Expect)
	}
}

func (k *TCPCheck) wantOpen() bool { return k.Expect != "closed" }

func (k *TCPCheck) describe(x *stepExec) string {
	state := "accepts connections"
	if !k.wantOpen() {
		state = "refuses connections"
	}
	return fmt.Sprintf("from %s, %s:%s %s", x.host(k.From.Name).Name, x.mustRender(k.Host), x.mustRender(k.Port), state)
}

func (k *TCPCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	t, h, err := x.conn(ctx, k.From.Name)
	if err != nil {
		return errResult(err, x.host(k.From.Name).Name)
	}
	host, err := x.render(k.Host)
	if err != nil {
		return errResult(err, h.Name)
	}
	port, err := x.render(k.Port)
	if err != nil {
		return errResult(err, h.Name)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return errResult(fmt.Errorf("port %q is not a number from 1 to 65535", port), h.Name)
	}
	timeout := k.Timeout.D
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(host, port)
	t0 := x.now()
	conn, err := t.DialTCP(dctx, addr)
	took := x.now().Sub(t0).Round(time.Millisecond)
	r := CheckResult{Hosts: []string{h.Name}}
	if probe.IsConnectionError(err) {
		return errResult(err, h.Name)
	}
	open := err == nil
	if open {
		conn.Close()
		r.Evidence = []string{fmt.Sprintf("%s -> %s: connected in %s", h.Name, addr, took)}
	} else {
		r.Evidence = []string{fmt.Sprintf("%s -> %s: %v (after %s)", h.Name, addr, err, took)}
	}
	if open == k.wantOpen() {
		r.Status = Pass
	} else {
		r.Status = Fail
	}
	if open {
		r.Summary = fmt.Sprintf("%s reaches %s", h.Name, addr)
	} else {
		r.Summary = fmt.Sprintf("%s cannot reach %s", h.Name, addr)
	}
	return r
}
