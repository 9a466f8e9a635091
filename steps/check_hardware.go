package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// HardwareCheck compares the processors and memory the probe found on the roles' hosts
// when the run started, and passes when they are alike: the same number of processors,
// and memory within memoryTolerance of the largest (firmware and kernels keep slightly
// different amounts of the same modules for themselves). Vendors that advise alike
// nodes without requiring them are served by marking it advice, so a difference warns
// instead of stopping the run.
//
//	pre:
//	  - name: The new node has the hardware of the existing node
//	    advice: true
//	    same_hardware: {roles: [node, new]}
type HardwareCheck struct {
	Roles Refs `yaml:"roles"`
}

// memoryTolerance is the share of the largest memory (in percent) by which hosts may
// differ and still count as alike.
const memoryTolerance = 5

func (k *HardwareCheck) compile(c *compiler, ch *Check) {
	c.roles(k.Roles, "roles", ch.Pos)
	if len(k.Roles) < 2 {
		c.errorf(ch.Pos, "roles: name at least two roles to compare")
	}
}

func (k *HardwareCheck) describe(x *stepExec) string {
	return fmt.Sprintf("%s have the same number of processors and memory within %d%%", strings.Join(hostNames(x, k.Roles), ", "), memoryTolerance)
}

// hostHardware is what the probe found of one host.
type hostHardware struct {
	host   string
	cpus   int
	memory int64
}

func (k *HardwareCheck) eval(_ context.Context, x *stepExec) CheckResult {
	r := CheckResult{Final: true}
	var hw []hostHardware
	var unknown []string
	for _, role := range distinctRoles(x, k.Roles) {
		h := x.host(role)
		f := x.facts[h.Name]
		if f == nil || !f.Reachable {
			return errResult(fmt.Errorf("no probe facts for %s", h.Name), h.Name)
		}
		r.Hosts = append(r.Hosts, h.Name)
		hw = append(hw, hostHardware{h.Name, f.CPUs, f.Memory})
		r.Evidence = append(r.Evidence, fmt.Sprintf("%s: %s, %s of memory", h.Name, processors(f.CPUs), gib(f.Memory)))
		if f.CPUs == 0 || f.Memory == 0 {
			unknown = append(unknown, h.Name)
		}
	}
	if len(unknown) > 0 {
		r.Status = Fail
		r.Summary = fmt.Sprintf("cannot compare: %s did not report processors and memory (getconf _NPROCESSORS_ONLN, _PHYS_PAGES, PAGESIZE)", strings.Join(unknown, ", "))
		return r
	}
	var differ []string
	if cpus := distinctFigures(hw, func(h hostHardware) string { return processors(h.cpus) }); len(cpus) > 1 {
		differ = append(differ, "processors differ: "+strings.Join(cpus, "; "))
	}
	lo, hi := hw[0].memory, hw[0].memory
	for _, h := range hw[1:] {
		lo, hi = min(lo, h.memory), max(hi, h.memory)
	}
	if (hi-lo)*100 > hi*memoryTolerance {
		differ = append(differ, fmt.Sprintf("memory differs by more than %d%%: %s", memoryTolerance,
			strings.Join(distinctFigures(hw, func(h hostHardware) string { return gib(h.memory) }), "; ")))
	}
	if len(differ) > 0 {
		r.Status, r.Summary = Fail, strings.Join(differ, "; ")
		return r
	}
	r.Status = Pass
	r.Summary = fmt.Sprintf("alike: %s and %s of memory on each of %s", processors(hw[0].cpus), gib(hw[0].memory), strings.Join(r.Hosts, ", "))
	return r
}

// distinctFigures groups hosts by a figure: "4 processors on lm1, lm3; 2 processors on lm2".
func distinctFigures(hw []hostHardware, figure func(hostHardware) string) []string {
	var figures []string
	hosts := map[string][]string{}
	for _, h := range hw {
		f := figure(h)
		if !slices.Contains(figures, f) {
			figures = append(figures, f)
		}
		hosts[f] = append(hosts[f], h.host)
	}
	out := make([]string, len(figures))
	for i, f := range figures {
		out[i] = f + " on " + strings.Join(hosts[f], ", ")
	}
	return out
}

func processors(n int) string {
	if n == 0 {
		return "processors unknown"
	}
	return Plural(n, "processor", "processors")
}

// gib writes a memory size in GiB with one decimal, as an operator compares machines.
func gib(b int64) string {
	if b == 0 {
		return "unknown size"
	}
	return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
}
