package steps_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/yamlpos"
	"github.com/cutover/cutover/steps"
)

// FuzzParseRunbook feeds the runbook loader arbitrary text. It must never panic; it either
// refuses the text with errors that carry the file name, or gives a runbook that can be
// planned and described (with and without facts) without panicking either.
func FuzzParseRunbook(f *testing.F) {
	f.Add(rbMinimal)
	f.Add(planRunbook)
	f.Add(rbHead + "  - id: s1\n    title: S1\n    text: |\n      On {{ roles.old.host }}\n    action:\n      run: {role: old, command: \"echo {{ params.port }}\", exit: [0, 3], timeout: 30s}\n")
	f.Add(rbHead + "  - id: s1\n    title: S1\n    gates:\n      - newest_file: {role: new, path: \"logs/*.log\", newer_than: 24h, contains: a+, not_contains: [\"b(\"]}\n        wait: {timeout: 1m, every: 2s}\n")
	f.Add(rbHead + "  - id: s1\n    title: S1\n    action:\n      ini: {role: new, file: a.ini, set: {Key: \"{{ params.mode }}\"}, unset: [Old]}\n    gates:\n      - ini: {role: new, file: a.ini, key: Key, equals: fast}\n      - tcp: {from: old, host: \"{{ roles.new.address }}\", port: \"{{ params.port }}\"}\n")
	f.Add(rbHead + "  - id: s1\n    title: S1\n    action:\n      copy: {from: old, to: new, mode: replace, paths: [a, {src: b, dst: c}]}\n")
	f.Add("id: x/y\ntitle: T\nsystem: S\nsource: M\nsteps:\n  - id: s\n    title: S\n    manual: true\n    when: '1 +'\n")
	f.Add("id: x/y\ntitle: T\nsystem: S\nsource: M\nroles: !x\nsteps:\n  -\n  - id: s\n    gates: [~]\n")
	f.Add("id: x/y\ntitle: T\nsystem: S\nsource: M\npresets:\n  - {id: p, params: {a: \"1\"}}\nsteps:\n  - {id: s, title: S, manual: true, pos: {line: 1}}\n")
	if files, err := filepath.Glob(filepath.Join("..", "runbooks", "*", "*.yaml")); err == nil {
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(string(data))
			}
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		rb, err := steps.Parse("fuzz.yaml", []byte(src))
		if err != nil {
			all := yamlpos.Errors(err)
			if len(all) == 0 {
				t.Fatalf("error %T without a position: %v", err, err)
			}
			for _, e := range all {
				if e.Pos.File != "fuzz.yaml" {
					t.Fatalf("error without the file name: %v", e)
				}
			}
			if _, again := steps.Parse("fuzz.yaml", []byte(src)); again == nil || again.Error() != err.Error() {
				t.Fatalf("the same runbook gave another result:\n%v\n---\n%v", err, again)
			}
			return
		}
		seen := map[string]bool{}
		for _, s := range rb.Steps {
			if seen[s.ID] {
				t.Fatalf("duplicate step %q accepted", s.ID)
			}
			seen[s.ID] = true
		}
		hosts := map[string]*probe.Host{}
		facts := map[string]*probe.Facts{}
		roles := map[string]string{}
		for _, r := range rb.Roles {
			hosts[r.ID] = &probe.Host{Name: r.ID, Address: r.ID + ".example", Port: 22, Shell: "sh"}
			facts[r.ID] = &probe.Facts{Name: r.ID, Reachable: true, Hostname: r.ID + ".example", Components: []string{"hub"}}
			roles[r.ID] = r.ID
		}
		params := map[string]string{}
		for _, p := range rb.Params {
			if p.Default.IsZero() && !p.Optional {
				params[p.ID] = map[steps.ParamType]string{
					steps.TypeBool: "yes", steps.TypeInt: "1", steps.TypePort: "22", steps.TypeHost: "h.example",
				}[p.Type]
				if params[p.ID] == "" && len(p.Choices) > 0 {
					params[p.ID] = p.Choices[0]
				}
				if params[p.ID] == "" {
					params[p.ID] = "x"
				}
			}
		}
		lookup := func(name string) *probe.Host { return hosts[name] }
		for _, fs := range []map[string]*probe.Facts{nil, facts} {
			plan, err := steps.Prepare(rb, lookup, steps.Inputs{Roles: roles, Params: params}, fs)
			if err != nil {
				continue
			}
			for _, s := range plan.Steps {
				if _, err := plan.Describe(s.ID); err != nil {
					t.Fatalf("Describe(%s): %v", s.ID, err)
				}
			}
		}
	})
}
