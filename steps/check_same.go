package steps

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cutover/cutover/probe/ini"
)

// SameCheck reads one value on the host of each role and passes when they agree: the
// same product version on every node of a cluster. The value is an INI key read through
// SFTP (the same on Windows and POSIX hosts) or the first line a command prints.
//
// With compare: after_first_label the values are host names that must differ in their
// first label only, such as the Main Domain Names of a CommuniGate Pro cluster
// (fe1.mail.example, be1.mail.example): what follows the first dot agrees on every host,
// and no two hosts report the same name.
//
// For example, a gate of a runbook:
//
//	gates:
//	  - name: Both nodes run the same MDaemon version
//	    same:
//	      roles: [primary, secondary]
//	      what: MDaemon version
//	      command:
//	        run: cat '{{ role.install_dir }}/version.txt'
//	        powershell: (Get-Item '{{ role.install_dir }}\App\MDaemon.exe').VersionInfo.ProductVersion
type SameCheck struct {
	Roles Refs `yaml:"roles"`
	// What names the value for the operator ("MDaemon version").
	What    string       `yaml:"what"`
	INI     *SameINI     `yaml:"ini"`
	Command *SameCommand `yaml:"command"`
	// Compare is "whole" (the default) or "after_first_label".
	Compare string `yaml:"compare"`
}

// SameINI names an INI key; the file is relative to each host's install folder.
type SameINI struct {
	File    *Template `yaml:"file"`
	Section string    `yaml:"section"`
	Key     string    `yaml:"key"`
}

// SameCommand prints the value as its first line. Its templates may read role (the host
// the command runs on: role.install_dir, role.hostname) besides params and roles.
type SameCommand struct {
	Run        *Template `yaml:"run"`
	PowerShell *Template `yaml:"powershell"`
	Timeout    Duration  `yaml:"timeout"`
}

const compareAfterFirstLabel = "after_first_label"

func (k *SameCheck) compile(c *compiler, ch *Check) {
	c.roles(k.Roles, "roles", ch.Pos)
	if len(k.Roles) < 2 {
		c.errorf(ch.Pos, "roles: name at least two roles to compare")
	}
	if k.What == "" {
		c.errorf(ch.Pos, "what: name the value for the operator (such as MDaemon version)")
	}
	switch {
	case (k.INI == nil) == (k.Command == nil):
		c.errorf(ch.Pos, "give exactly one of ini: {file, key} and command: {run, powershell}")
	case k.INI != nil:
		c.tmpl(k.INI.File, "ini.file", ch.Pos, true)
		if k.INI.Key == "" {
			c.errorf(ch.Pos, "ini.key is required")
		}
	default:
		c.commands(k.Command.Run, k.Command.PowerShell, "command.run", "command.powershell", ch.Pos, true)
	}
	switch k.Compare {
	case "", "whole", compareAfterFirstLabel:
	default:
		c.errorf(ch.Pos, "compare must be whole or %s, not %q", compareAfterFirstLabel, k.Compare)
	}
}

func (k *SameCheck) describe(x *stepExec) string {
	hosts := strings.Join(hostNames(x, k.Roles), ", ")
	s := fmt.Sprintf("%s is the same on %s", k.What, hosts)
	if k.Compare == compareAfterFirstLabel {
		s = fmt.Sprintf("%s differs only in its first label across %s", k.What, hosts)
	}
	if k.INI != nil {
		key := k.INI.Key
		if k.INI.Section != "" {
			key = "[" + k.INI.Section + "] " + key
		}
		return fmt.Sprintf("%s (%s in %s)", s, key, x.mustRender(k.INI.File))
	}
	// The command as each host will run it; hosts with the same command share a line.
	var forms []string
	var owners [][]string
	for _, role := range distinctRoles(x, k.Roles) {
		cmd, err := k.command(x, role)
		if err != nil {
			cmd = "<" + err.Error() + ">"
		}
		cmd = x.redact(cmd)
		if i := slices.Index(forms, cmd); i >= 0 {
			owners[i] = append(owners[i], x.host(role).Name)
			continue
		}
		forms = append(forms, cmd)
		owners = append(owners, []string{x.host(role).Name})
	}
	if len(forms) == 1 {
		return fmt.Sprintf("%s, read with `%s`", s, forms[0])
	}
	parts := make([]string, len(forms))
	for i, f := range forms {
		parts[i] = fmt.Sprintf("%s: `%s`", strings.Join(owners[i], ", "), f)
	}
	return fmt.Sprintf("%s, read with %s", s, strings.Join(parts, "; "))
}

// command renders the form of the command that suits the shell of role's host.
func (k *SameCheck) command(x *stepExec, role string) (string, error) {
	h := x.host(role)
	if h.PowerShell() {
		if k.Command.PowerShell.IsZero() {
			return "", fmt.Errorf("%s runs PowerShell and this command has no powershell: form", h.Name)
		}
		return x.renderAs(k.Command.PowerShell, role)
	}
	if k.Command.Run.IsZero() {
		return "", fmt.Errorf("%s runs a POSIX shell and this command has only a powershell: form", h.Name)
	}
	return x.renderAs(k.Command.Run, role)
}

// sameReading is the value one host reported, or why it reported none.
type sameReading struct {
	host     string
	value    string
	missing  string   // why there is no value, for the summary
	evidence []string // what the host showed
}

// read gets the value on the host of role. An error means the host could not be asked.
func (k *SameCheck) read(ctx context.Context, x *stepExec, role string) (sameReading, error) {
	t, h, err := x.conn(ctx, role)
	if err != nil {
		return sameReading{}, err
	}
	rd := sameReading{host: h.Name}
	if k.INI != nil {
		p, err := x.path(k.INI.File, role)
		if err != nil {
			return rd, err
		}
		key := k.INI.Key
		if k.INI.Section != "" {
			key = "[" + k.INI.Section + "] " + key
		}
		data, err := readSmallFile(ctx, t, p)
		switch {
		case isNotExist(err):
			rd.missing = p + " does not exist"
			rd.evidence = []string{fmt.Sprintf("%s:%s: no such file", h.Name, p)}
		case err != nil:
			return rd, fmt.Errorf("%s:%s: %w", h.Name, p, err)
		default:
			v, ok := ini.Parse(data).Get(k.INI.Section, k.INI.Key)
			if v = strings.TrimSpace(v); !ok || v == "" {
				rd.missing = key + " is not set in " + p
				rd.evidence = []string{fmt.Sprintf("%s:%s: %s is not set", h.Name, p, key)}
			} else {
				rd.value = v
				rd.evidence = []string{fmt.Sprintf("%s:%s: %s=%s", h.Name, p, key, x.redact(v))}
			}
		}
		return rd, nil
	}
	cmd, err := k.command(x, role)
	if err != nil {
		return rd, err
	}
	if k.Command.Timeout.D > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, k.Command.Timeout.D)
		defer cancel()
	}
	code, out, err := capture(ctx, t, cmd)
	if err != nil {
		return rd, fmt.Errorf("%s: %w", h.Name, err)
	}
	for _, l := range splitLogLines([]byte(out)) {
		if v := strings.TrimSpace(l); v != "" && rd.value == "" {
			rd.value = v
		}
	}
	// The command is in the plan; the evidence shows it again only when it went wrong.
	switch {
	case code != 0:
		rd.missing, rd.value = fmt.Sprintf("the command exited %d", code), ""
		rd.evidence = append([]string{fmt.Sprintf("%s$ %s  (exit %d)", h.Name, x.redact(cmd), code)}, tailLines(x.redact(out), 10)...)
	case rd.value == "":
		rd.missing = "the command printed nothing"
		rd.evidence = []string{fmt.Sprintf("%s$ %s  (exit 0, no output)", h.Name, x.redact(cmd))}
	case k.Compare != compareAfterFirstLabel:
		rd.evidence = []string{fmt.Sprintf("%s: %s %s", h.Name, k.What, x.redact(rd.value))}
	}
	return rd, nil
}

// parentDomain is what follows the first label of a host name, in lower case.
func parentDomain(name string) string {
	_, rest, ok := strings.Cut(strings.ToLower(strings.TrimSuffix(name, ".")), ".")
	if !ok {
		return ""
	}
	return rest
}

func (k *SameCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	r := CheckResult{Hosts: hostNames(x, k.Roles)}
	var readings []sameReading
	for _, role := range distinctRoles(x, k.Roles) {
		rd, err := k.read(ctx, x, role)
		if err != nil {
			res := errResult(err, r.Hosts...)
			res.Evidence = r.Evidence
			return res
		}
		readings = append(readings, rd)
		r.Evidence = append(r.Evidence, rd.evidence...)
	}
	var problems []string
	for _, rd := range readings {
		if rd.value == "" {
			problems = append(problems, fmt.Sprintf("no %s on %s (%s)", k.What, rd.host, rd.missing))
		}
	}
	if len(problems) > 0 {
		r.Status, r.Summary = Fail, strings.Join(problems, "; ")
		return r
	}
	if k.Compare == compareAfterFirstLabel {
		return k.evalLabels(readings, r)
	}
	// Group the hosts by the value they reported, in the order values were first seen.
	var values []string
	byValue := map[string][]string{}
	for _, rd := range readings {
		if _, seen := byValue[rd.value]; !seen {
			values = append(values, rd.value)
		}
		byValue[rd.value] = append(byValue[rd.value], rd.host)
	}
	if len(values) == 1 {
		r.Status, r.Summary = Pass, fmt.Sprintf("%s is %s on %s", k.What, x.redact(values[0]), strings.Join(byValue[values[0]], ", "))
		return r
	}
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = fmt.Sprintf("%s on %s", x.redact(v), strings.Join(byValue[v], ", "))
	}
	r.Status, r.Summary = Fail, fmt.Sprintf("%s differs: %s", k.What, strings.Join(parts, "; "))
	return r
}

// evalLabels compares host names beyond their first label.
func (k *SameCheck) evalLabels(readings []sameReading, r CheckResult) CheckResult {
	var parents []string
	byParent := map[string][]string{}
	byName := map[string][]string{}
	var problems []string
	for _, rd := range readings {
		p := parentDomain(rd.value)
		if p == "" {
			problems = append(problems, fmt.Sprintf("%s on %s has a single label, nothing to compare after it", rd.value, rd.host))
			continue
		}
		r.Evidence = append(r.Evidence, fmt.Sprintf("%s: %s %s, after its first label: %s", rd.host, k.What, rd.value, p))
		if _, seen := byParent[p]; !seen {
			parents = append(parents, p)
		}
		byParent[p] = append(byParent[p], rd.host)
		name := strings.ToLower(strings.TrimSuffix(rd.value, "."))
		byName[name] = append(byName[name], rd.host)
	}
	if len(parents) > 1 {
		parts := make([]string, len(parents))
		for i, p := range parents {
			parts[i] = fmt.Sprintf("%s on %s", p, strings.Join(byParent[p], ", "))
		}
		problems = append(problems, fmt.Sprintf("%ss differ beyond the first label: %s", k.What, strings.Join(parts, "; ")))
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		if hs := byName[name]; len(hs) > 1 {
			last := len(hs) - 1
			problems = append(problems, fmt.Sprintf("%s and %s report the same %s %s", strings.Join(hs[:last], ", "), hs[last], k.What, name))
		}
	}
	if len(problems) > 0 {
		r.Status, r.Summary = Fail, strings.Join(problems, "; ")
		return r
	}
	r.Status = Pass
	r.Summary = fmt.Sprintf("every %s ends in %s and the first labels differ", k.What, parents[0])
	return r
}

// renderAs expands a template compiled with role in scope, for the host bound to role.
func (x *stepExec) renderAs(t *Template, role string) (string, error) {
	if t == nil {
		return "", nil
	}
	return t.renderFor(x.rb.schema, x.vals(), role)
}
