package steps

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"github.com/cutover/cutover/probe/yamlpos"
)

// CheckSpec is one kind of check. A check only reads: it never changes a host, so it is
// safe to run again on resume, on retry and in --verify-only replays.
type CheckSpec interface {
	// compile validates the fields and compiles templates, reporting to c.
	compile(c *compiler, ch *Check)
	// eval runs the check once. Status, Summary, Evidence and Hosts are its to fill.
	eval(ctx context.Context, x *stepExec) CheckResult
	// describe says in one line what the check verifies, for plans and exports.
	describe(x *stepExec) string
}

// marker is implemented by checks that read only what a host wrote after the step
// started: they note file sizes when the step starts. An error means the sizes could
// not be noted (the host did not answer); the step must not start without them, or its
// gates would read lines written before it.
type marker interface {
	mark(ctx context.Context, x *stepExec, into map[string]Mark) error
}

var checkRegistry = map[string]func() CheckSpec{
	"file_exists": func() CheckSpec { return &FileCheck{want: true} },
	"file_absent": func() CheckSpec { return &FileCheck{want: false} },
	"newest_file": func() CheckSpec { return &NewestFileCheck{} },
	"ini":         func() CheckSpec { return &INICheck{} },
	"command":     func() CheckSpec { return &CommandCheck{} },
	"service":     func() CheckSpec { return &ServiceCheck{} },
	"tcp":         func() CheckSpec { return &TCPCheck{} },
	"http":        func() CheckSpec { return &HTTPCheck{} },
	"dns":         func() CheckSpec { return &DNSCheck{} },
	"reach":       func() CheckSpec { return &ReachCheck{} },
	"outage":      func() CheckSpec { return &OutageCheck{} },
	"clock":       func() CheckSpec { return &ClockCheck{} },
	"rtt":         func() CheckSpec { return &RTTCheck{} },
	"facts":       func() CheckSpec { return &FactsCheck{} },
	"same":        func() CheckSpec { return &SameCheck{} },

	"distinct_machines": func() CheckSpec { return &DistinctMachinesCheck{} },
	"assert":            func() CheckSpec { return &AssertCheck{} },
	"file_age":          func() CheckSpec { return &FileAgeCheck{} },
	"proven_stopped":    func() CheckSpec { return &ProvenStoppedCheck{} },
	"same_hardware":     func() CheckSpec { return &HardwareCheck{} },
}

func checkKinds() []string {
	out := make([]string, 0, len(checkRegistry))
	for k := range checkRegistry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FileCheck passes when a path exists (file_exists) or does not (file_absent).
type FileCheck struct {
	Role Ref       `yaml:"role"`
	Path *Template `yaml:"path"`
	// Type optionally demands "file" or "dir" for file_exists.
	Type string `yaml:"type"`
	want bool
}

func (f *FileCheck) compile(c *compiler, ch *Check) {
	c.role(f.Role, "role", ch.Pos)
	c.tmpl(f.Path, "path", ch.Pos, true)
	if f.Type != "" && f.Type != "file" && f.Type != "dir" {
		c.errorf(ch.Pos, "type must be file or dir, not %q", f.Type)
	}
	if f.Type != "" && !f.want {
		c.errorf(ch.Pos, "type only applies to file_exists")
	}
}

func (f *FileCheck) describe(x *stepExec) string {
	what := "exists"
	if !f.want {
		what = "is absent"
	} else if f.Type == "dir" {
		what = "exists and is a folder"
	} else if f.Type == "file" {
		what = "exists and is a file"
	}
	return fmt.Sprintf("%s:%s %s", x.host(f.Role.Name).Name, x.mustRender(f.Path), what)
}

func (f *FileCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	t, h, err := x.conn(ctx, f.Role.Name)
	if err != nil {
		return errResult(err, x.host(f.Role.Name).Name)
	}
	p, err := x.path(f.Path, f.Role.Name)
	if err != nil {
		return errResult(err, h.Name)
	}
	fi, err := t.Stat(ctx, p)
	r := CheckResult{Hosts: []string{h.Name}}
	switch {
	case err != nil && !isNotExist(err):
		return errResult(fmt.Errorf("%s:%s: %w", h.Name, p, err), h.Name)
	case err != nil:
		r.Evidence = []string{fmt.Sprintf("%s:%s: no such file or folder", h.Name, p)}
		if f.want {
			r.Status, r.Summary = Fail, fmt.Sprintf("%s is missing on %s", p, h.Name)
		} else {
			r.Status, r.Summary = Pass, fmt.Sprintf("%s is absent on %s", p, h.Name)
		}
	default:
		r.Evidence = []string{describeFile(h.Name, p, fi)}
		switch {
		case !f.want:
			r.Status, r.Summary = Fail, fmt.Sprintf("%s still exists on %s", p, h.Name)
		case f.Type == "dir" && !fi.IsDir():
			r.Status, r.Summary = Fail, fmt.Sprintf("%s on %s is not a folder", p, h.Name)
		case f.Type == "file" && fi.IsDir():
			r.Status, r.Summary = Fail, fmt.Sprintf("%s on %s is a folder, not a file", p, h.Name)
		default:
			r.Status, r.Summary = Pass, fmt.Sprintf("%s exists on %s", p, h.Name)
		}
	}
	return r
}

func describeFile(host, p string, fi fs.FileInfo) string {
	kind := "file"
	if fi.IsDir() {
		kind = "folder"
	}
	return fmt.Sprintf("%s:%s: %s, %d bytes, modified %s", host, p, kind, fi.Size(), fi.ModTime().UTC().Format(time.RFC3339))
}

// checkPos is where errors about a check's fields go when the field has no position.
func checkPos(ch *Check, t *Template) yamlpos.Pos {
	if t != nil && !t.Pos.IsZero() {
		return t.Pos
	}
	return ch.Pos
}
