package steps

import (
	"context"
	"fmt"
	"strings"
	"time"

	yast "github.com/goccy/go-yaml/ast"
)

// DurationTmpl is a time span written as "15m", or as a template such as
// "{{ params.max_sync_age }}" when a site sets it (an outage threshold, the age a
// copy may have). A literal is checked when the runbook loads; a template when the
// check runs.
type DurationTmpl struct {
	T *Template
}

// UnmarshalYAML reads the text as a template.
func (d *DurationTmpl) UnmarshalYAML(n yast.Node) error {
	d.T = &Template{}
	return d.T.UnmarshalYAML(n)
}

// IsZero reports whether no duration was given.
func (d *DurationTmpl) IsZero() bool { return d == nil || d.T.IsZero() }

// compileDuration compiles a duration field; literal values must parse now.
func (c *compiler) compileDuration(d *DurationTmpl, field string, at *Check, required bool) {
	if d.IsZero() {
		if required {
			c.errorf(at.Pos, "%s is required (a duration such as 15m)", field)
		}
		return
	}
	c.tmpl(d.T, field, at.Pos, true)
	if !strings.Contains(d.T.Src, "{{") {
		if _, err := parseSpan(d.T.Src); err != nil {
			c.errorf(checkPos(at, d.T), "%s: %v", field, err)
		}
	}
}

// parseSpan reads a non-negative Go duration ("90s", "15m", "1h30m").
func parseSpan(s string) (time.Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid duration %q: use a number and a unit such as 30s, 15m, 2h", s)
	}
	return v, nil
}

// duration renders a duration field; an absent one is zero.
func (x *stepExec) duration(d *DurationTmpl) (time.Duration, error) {
	if d.IsZero() {
		return 0, nil
	}
	s, err := x.render(d.T)
	if err != nil {
		return 0, err
	}
	return parseSpan(s)
}

// FileAgeCheck passes when a file exists and was modified at most MaxAge ago by the
// host's clock: a sync job's freshness stamp, a heartbeat file, a replica's marker. The
// end of the file is shown as evidence (a stamp usually says what it records), and lines
// it must contain can be demanded.
type FileAgeCheck struct {
	Role Ref       `yaml:"role"`
	Path *Template `yaml:"path"`
	// MaxAge is the oldest the file may be: "15m", or "{{ params.max_sync_age }}".
	MaxAge   *DurationTmpl `yaml:"max_age"`
	Contains Patterns      `yaml:"contains"`
}

func (k *FileAgeCheck) compile(c *compiler, ch *Check) {
	c.role(k.Role, "role", ch.Pos)
	c.tmpl(k.Path, "path", ch.Pos, true)
	c.compileDuration(k.MaxAge, "max_age", ch, true)
}

func (k *FileAgeCheck) describe(x *stepExec) string {
	s := fmt.Sprintf("%s:%s was modified at most %s ago", x.host(k.Role.Name).Name, x.mustRender(k.Path), x.mustRender(k.MaxAge.T))
	for _, p := range k.Contains {
		s += fmt.Sprintf(", contains /%s/", p.text(x))
	}
	return s
}

// stampTail is how much of the end of the file is read for evidence and patterns.
const stampTail = 4 << 10

func (k *FileAgeCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	t, h, err := x.conn(ctx, k.Role.Name)
	if err != nil {
		return errResult(err, x.host(k.Role.Name).Name)
	}
	maxAge, err := x.duration(k.MaxAge)
	if err != nil {
		return errResult(fmt.Errorf("max_age: %w", err), h.Name)
	}
	p, err := x.path(k.Path, k.Role.Name)
	if err != nil {
		return errResult(err, h.Name)
	}
	r := CheckResult{Hosts: []string{h.Name}}
	fi, err := t.Stat(ctx, p)
	if err != nil {
		if isNotExist(err) {
			r.Status, r.Summary = Fail, fmt.Sprintf("%s does not exist on %s", p, h.Name)
			r.Evidence = []string{fmt.Sprintf("%s:%s: no such file", h.Name, p)}
			return r
		}
		return errResult(fmt.Errorf("%s:%s: %w", h.Name, p, err), h.Name)
	}
	if fi.IsDir() {
		r.Status, r.Summary = Fail, fmt.Sprintf("%s on %s is a folder, not a file", p, h.Name)
		r.Evidence = []string{describeFile(h.Name, p, fi)}
		return r
	}
	now := x.hostClock(h, x.now())
	age := now.Sub(fi.ModTime())
	// A time ahead of the host's clock (written while the clock was ahead, or set by
	// hand) says nothing about how old the file is: it fails beyond the clock slack
	// instead of counting as brand new.
	ahead := -age > x.clockSlack(h)
	age = max(age, 0)
	if ahead {
		r.Evidence = []string{fmt.Sprintf("%s:%s: modified %s, %s in the future by the host clock (now %s)",
			h.Name, p, Stamp(fi.ModTime()), fi.ModTime().Sub(now).Round(time.Second), Stamp(now))}
	} else {
		r.Evidence = []string{fmt.Sprintf("%s:%s: modified %s, %s ago (at most %s allowed; host clock)",
			h.Name, p, Stamp(fi.ModTime()), age.Round(time.Second), maxAge)}
	}
	data, start, err := readRange(ctx, t, p, 0, fi.Size(), stampTail)
	if err != nil {
		return errResult(fmt.Errorf("reading %s:%s: %w", h.Name, p, err), h.Name)
	}
	lines := splitLogLines(data)
	for i := max(len(lines)-5, 0); i < len(lines); i++ {
		if start == 0 {
			r.Evidence = append(r.Evidence, fmt.Sprintf("line %d: %s", i+1, x.redact(lines[i])))
		} else {
			r.Evidence = append(r.Evidence, "end of file: "+x.redact(lines[i]))
		}
	}
	var problems []string
	if ahead {
		problems = append(problems, fmt.Sprintf("last modified %s in the future by the host's clock, so its age cannot be told (was the clock ahead when it was written?)",
			fi.ModTime().Sub(now).Round(time.Second)))
	} else if age > maxAge+x.clockSlack(h) {
		problems = append(problems, fmt.Sprintf("last modified %s ago, more than %s", age.Round(time.Second), maxAge))
	}
	want, err := k.Contains.regexps(x)
	if err != nil {
		return errResult(err, h.Name)
	}
	for i, re := range want {
		found := false
		for _, l := range lines {
			found = found || re.MatchString(l)
		}
		if !found {
			problems = append(problems, fmt.Sprintf("no line matches /%s/", k.Contains[i].text(x)))
		}
	}
	if len(problems) > 0 {
		r.Status, r.Summary = Fail, fmt.Sprintf("%s on %s: %s", p, h.Name, strings.Join(problems, "; "))
		return r
	}
	r.Status, r.Summary = Pass, fmt.Sprintf("%s on %s is %s old (at most %s)", p, h.Name, age.Round(time.Second), maxAge)
	return r
}
