package steps

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// Templated patterns: a gate's wording given as a parameter (the phrase a site's backup
// log writes), so that an operator adapts the gate to the site without editing the
// runbook, and the preflight checks that wording against the hosts' history.

// patterns compiles the templates of every pattern a check's fields hold.
func (c *compiler) patterns(spec any, at *Check) {
	walkPatterns(spec, func(p *Pattern) {
		if p.tmpl != nil {
			c.tmpl(p.tmpl, "pattern", checkPos(at, p.tmpl), true)
		}
	})
}

// walkPatterns calls f for every pattern in a check's fields, found by type so that
// every kind of check is covered without listing its fields again.
func walkPatterns(spec any, f func(*Pattern)) {
	walkFields(spec, func(v reflect.Value) {
		switch x := v.Interface().(type) {
		case *Pattern:
			if x != nil {
				f(x)
			}
		case Patterns:
			for _, p := range x {
				if p != nil {
					f(p)
				}
			}
		}
	})
}

// regexp is the pattern as it applies in this step: rendered and compiled when it is a
// template. The error names the pattern and what is wrong with the rendered text.
func (p *Pattern) regexp(x *stepExec) (*regexp.Regexp, error) {
	if p.tmpl == nil {
		return p.Re, nil
	}
	src, err := x.render(p.tmpl)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("pattern %s gives %q, not a regular expression: %v", p.Src, src, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	return re, nil
}

// text is the pattern as it applies in this step, for descriptions and evidence.
func (p *Pattern) text(x *stepExec) string {
	if p.tmpl == nil {
		return p.Src
	}
	return x.mustRender(p.tmpl)
}

// regexps compiles a list of patterns for this step.
func (ps Patterns) regexps(x *stepExec) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, len(ps))
	for i, p := range ps {
		re, err := p.regexp(x)
		if err != nil {
			return nil, err
		}
		out[i] = re
	}
	return out, nil
}
