package steps

import (
	"context"
	"fmt"
)

// AssertCheck evaluates a condition on the run's parameters and the facts the probe
// gathered when the run started, without touching a host. It is for what no single
// parameter can validate on its own: two inputs that must differ, a path that must lie
// outside a host's install folder, a combination of choices the procedure cannot carry
// out ("switch databases first, then come back").
//
//   - name: The restore folder is outside the install folder
//     assert:
//     that: '!(params.restore_dir startsWith roles.new.install_dir + "/")'
//     pass: the backup copy stays out of the installation
//     fail: the restore folder is inside the Maestro installation on the new server
type AssertCheck struct {
	That *Expr     `yaml:"that"`
	Pass *Template `yaml:"pass"`
	// Fail is the summary when the condition is false: what is wrong and what to do.
	Fail *Template `yaml:"fail"`
}

func (k *AssertCheck) compile(c *compiler, ch *Check) {
	if k.That == nil {
		c.errorf(ch.Pos, "that: a condition on params and roles")
		return
	}
	if k.Fail.IsZero() {
		c.errorf(ch.Pos, "fail: what the operator is told when the condition is false")
	}
	c.tmpl(k.Fail, "fail", ch.Pos, false)
	c.tmpl(k.Pass, "pass", ch.Pos, false)
	c.cond(k.That, false)
}

func (k *AssertCheck) passText(x *stepExec) string {
	if !k.Pass.IsZero() {
		return x.mustRender(k.Pass)
	}
	return k.That.Src + " holds"
}

func (k *AssertCheck) describe(x *stepExec) string { return k.passText(x) }

func (k *AssertCheck) eval(_ context.Context, x *stepExec) CheckResult {
	ok, err := k.That.eval(x.rb.schema, x.vals(), "")
	if err != nil {
		return errResult(err)
	}
	r := CheckResult{Evidence: []string{fmt.Sprintf("%s: %v", k.That.Src, ok)}, Final: true}
	if ok {
		r.Status, r.Summary = Pass, k.passText(x)
	} else {
		r.Status, r.Summary = Fail, x.mustRender(k.Fail)
	}
	return r
}
