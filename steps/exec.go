package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
)

// runEnv is what every step of a run works with: the values expressions see, the hosts
// bound to roles, their facts, and the connections.
type runEnv struct {
	rb       *Runbook
	values   Values
	bindings map[string]*probe.Host // role → host
	facts    map[string]*probe.Facts
	pool     *probe.Pool
	now      func() time.Time
	observe  func(Progress)
	secrets  []string
	runID    string
}

// stepExec is one step's view of the run.
type stepExec struct {
	*runEnv
	step  *Step
	start time.Time
	marks map[string]Mark
}

func (x *stepExec) vals() *Values {
	v := x.values
	v.Step = StepEnv{ID: x.step.ID}
	if !x.start.IsZero() {
		v.Step.Start = x.start.UTC().Format(time.RFC3339)
	}
	return &v
}

func (x *stepExec) render(t *Template) (string, error) {
	return t.render(x.rb.schema, x.vals())
}

// renderText renders a step's operator text, which is Markdown: each value in it
// (a host's name, addresses, INI values, parameters) is kept to one line of text and
// escaped for where it goes (markdownValues), with its secrets removed first, so that
// no value can add a link, an image, HTML or a ticked box to the screen or the
// checklist. An error is shown in place of the text, as mustRender does.
func (x *stepExec) renderText(t *Template) string {
	s, err := t.renderWith(x.rb.schema, x.vals(), &markdownValues{redact: x.redact})
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return s
}

// mustRender renders for descriptions, where an error is shown in place of the value.
func (x *stepExec) mustRender(t *Template) string {
	s, err := x.render(t)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return s
}

func (x *stepExec) host(role string) *probe.Host {
	if h := x.bindings[role]; h != nil {
		return h
	}
	return &probe.Host{Name: "<" + role + ">"}
}

// conn returns the connection to the host bound to role.
func (x *stepExec) conn(ctx context.Context, role string) (probe.Transport, *probe.Host, error) {
	h, ok := x.bindings[role]
	if !ok {
		return nil, nil, fmt.Errorf("role %s is not bound to a host", role)
	}
	if x.pool == nil {
		return nil, h, fmt.Errorf("no connections in this mode")
	}
	t, err := x.pool.Get(ctx, h)
	return t, h, err
}

// path renders a path template and resolves it on the role's host.
func (x *stepExec) path(t *Template, role string) (string, error) {
	p, err := x.render(t)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(p) == "" {
		return "", fmt.Errorf("path %q is empty after expansion", t.Src)
	}
	return x.host(role).Resolve(p), nil
}

// hostClock converts an operator-clock time to the host's clock, using the offset the
// probe measured, so "newer than the step's start" means the same thing on a host whose
// clock is off.
func (x *stepExec) hostClock(h *probe.Host, t time.Time) time.Time {
	if f := x.facts[h.Name]; f != nil {
		return t.Add(f.ClockOffset)
	}
	return t
}

// clockSlack is how much earlier than the threshold a file may be and still count as
// new: file times are coarse and the offset is only known to within its uncertainty.
func (x *stepExec) clockSlack(h *probe.Host) time.Duration {
	slack := time.Second
	if f := x.facts[h.Name]; f != nil {
		slack += f.ClockUncertainty
	}
	return slack
}

func (x *stepExec) progress(p Progress) {
	if x.observe != nil {
		p.Step = x.step.ID
		x.observe(p)
	}
}

// redact removes secret values from text bound for the journal or the screen.
func (x *runEnv) redact(s string) string {
	return redactText(s, x.secrets)
}

// errResult builds a result for an error that stopped the check from deciding.
func errResult(err error, hosts ...string) CheckResult {
	return CheckResult{Status: Error, Summary: err.Error(), Hosts: hosts, Unreachable: probe.IsConnectionError(err)}
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
