package steps_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cutover/cutover/probe/yamlpos"
	"github.com/cutover/cutover/steps"
)

// rbHead is the start of a valid runbook: the cases below add steps (or replace it).
const rbHead = `id: test/move
title: Move the thing
system: Test system
source: Test manual, section 1
roles:
  - id: old
    title: Server the thing leaves
  - id: new
    title: Server the thing moves to
params:
  - id: port
    title: Port
    type: int
    default: "8080"
  - id: mode
    title: Mode
    type: choice
    choices: [fast, careful]
    default: careful
steps:
`

const rbMinimal = `id: test/minimal
title: The smallest runbook
system: Test
source: Test manual, section 1
steps:
  - id: confirm
    title: Confirm it is done
    manual: true
`

func TestParseMinimalRunbook(t *testing.T) {
	rb, err := steps.Parse("minimal.yaml", []byte(rbMinimal))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	sum := sha256.Sum256([]byte(rbMinimal))
	if rb.ID != "test/minimal" || rb.Title != "The smallest runbook" || rb.File != "minimal.yaml" || rb.Hash != hex.EncodeToString(sum[:]) {
		t.Errorf("runbook = id %q title %q file %q hash %q", rb.ID, rb.Title, rb.File, rb.Hash)
	}
	if len(rb.Steps) != 1 || rb.Step("confirm") == nil || !rb.Step("confirm").Manual {
		t.Errorf("steps = %+v", rb.Steps)
	}
	if rb.Step("nope") != nil || rb.Param("nope") != nil || rb.Role("nope") != nil || rb.Preset("nope") != nil {
		t.Error("lookups of unknown ids must give nil")
	}
}

func TestParseFullRunbook(t *testing.T) {
	src := rbHead + `  - id: stop
    title: Stop the service
    when: params.mode == "careful"
    skip_reason: only in careful mode
    confirm: true
    text: |
      Stops the service on {{ roles.old.host }} (port {{ params.port }}).
    action:
      service: {roles: [old, new], name: svc, do: stop}
    gates:
      - name: stopped
        service: {roles: old, name: svc, state: stopped}
        wait: {timeout: 2m, every: 5s}
  - id: check-log
    title: Look at the log
    gates:
      - newest_file: {role: new, path: "logs/*.log", newer_than: step_start, contains: ["started", "port \\d+"]}
        when: '"hub" in roles.new.components'
`
	rb, err := steps.Parse("full.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := rb.RoleIDs(); !slices.Equal(got, []string{"old", "new"}) {
		t.Errorf("RoleIDs = %v", got)
	}
	stop := rb.Step("stop")
	if stop.Action == nil || stop.Action.Kind != "service" || len(stop.Gates) != 1 || stop.Gates[0].Kind != "service" {
		t.Fatalf("step stop = %+v", stop)
	}
	if w := stop.Gates[0].Wait; w == nil || w.Timeout.D.Minutes() != 2 || w.Every.D.Seconds() != 5 {
		t.Errorf("wait = %+v", w)
	}
	if stop.When == nil || stop.When.Src != `params.mode == "careful"` {
		t.Errorf("when = %+v", stop.When)
	}
	if g := rb.Step("check-log").Gates[0]; g.Kind != "newest_file" || g.When == nil {
		t.Errorf("gate = %+v", g)
	}
	if rb.Param("mode").Type != steps.TypeChoice || rb.Param("port").Type != steps.TypeInt {
		t.Error("parameter types not kept")
	}
}

func TestParseErrorsNameTheirPlace(t *testing.T) {
	tests := []struct {
		name string
		// src is the runbook; when it does not start with "id:", it is steps after rbHead.
		src string
		// at is the text at the reported position (its nth occurrence, default first).
		at      string
		nth     int
		wantMsg string
	}{
		{
			name:    "an unknown top-level key",
			src:     strings.Replace(rbMinimal, "system: Test\n", "system: Test\nsytem: typo\n", 1),
			at:      "sytem",
			wantMsg: `unknown key "sytem"`,
		},
		{
			name:    "an unknown step key",
			src:     "  - id: s1\n    title: S1\n    manaul: true\n",
			at:      "manaul",
			wantMsg: `unknown key "manaul"`,
		},
		{
			name:    "an unknown check kind lists the known ones",
			src:     "  - id: s1\n    title: S1\n    gates:\n      - file_exist: {role: old, path: hub/hub.ini}\n",
			at:      "file_exist",
			wantMsg: `unknown check "file_exist" (did you mean file_exists?) (known: `, // the list grows with every new kind of check
		},
		{
			name:    "two check kinds in one item",
			src:     "  - id: s1\n    title: S1\n    gates:\n      - file_exists: {role: old, path: a}\n        file_absent: {role: old, path: b}\n",
			at:      "file_absent",
			wantMsg: "one check per list item: file_exists and file_absent are both here",
		},
		{
			name:    "a check without a kind",
			src:     "  - id: s1\n    title: S1\n    gates:\n      - name: nothing to check\n",
			at:      "name: nothing",
			wantMsg: "check has no kind",
		},
		{
			name:    "an unknown action kind",
			src:     "  - id: s1\n    title: S1\n    action:\n      shell: {role: old, command: ls}\n",
			at:      "shell",
			wantMsg: `unknown action "shell" (known: copy, discard, ini, preseed, restore, run, service, write)`,
		},
		{
			name:    "two action kinds",
			src:     "  - id: s1\n    title: S1\n    action:\n      run: {role: old, command: ls}\n      service: {roles: old, name: x, do: stop}\n",
			at:      "service:",
			wantMsg: "action: one kind per step, and run and service are both here",
		},
		{
			name:    "a duplicate step id",
			src:     "  - id: s1\n    title: First\n    manual: true\n  - id: s1\n    title: Second\n    manual: true\n",
			at:      "id: s1",
			nth:     2,
			wantMsg: `duplicate step id "s1" (first at line 21)`,
		},
		{
			name:    "a duplicate role",
			src:     strings.Replace(rbHead, "params:\n", "  - id: old\n    title: Again\nparams:\n", 1) + "  - id: s1\n    title: S\n    manual: true\n",
			at:      "id: old",
			nth:     2,
			wantMsg: `duplicate role "old" (first at line 6)`,
		},
		{
			name:    "a duplicate parameter",
			src:     strings.Replace(rbHead, "steps:\n", "  - id: port\n    type: port\nsteps:\n", 1) + "  - id: s1\n    title: S\n    manual: true\n",
			at:      "id: port",
			nth:     2,
			wantMsg: `duplicate parameter "port" (first at line 11)`,
		},
		{
			name:    "an undefined role in a check",
			src:     "  - id: s1\n    title: S1\n    gates:\n      - file_exists: {role: nwe, path: hub/hub.ini}\n",
			at:      "nwe",
			wantMsg: `undefined role "nwe" (declared: old, new)`,
		},
		{
			name:    "an undefined role in a list of roles",
			src:     "  - id: s1\n    title: S1\n    action:\n      service: {roles: [old, nwe], name: svc, do: stop}\n",
			at:      "nwe",
			wantMsg: `undefined role "nwe" (declared: old, new)`,
		},
		{
			name:    "an undefined role in a template",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    text: Log in to {{ roles.nwe.host }} now.\n",
			at:      "nwe",
			wantMsg: `template: undefined role "nwe" (declared: old, new)`,
		},
		{
			name:    "an undefined role in a quoted template",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    text: \"Log in to {{ roles.nwe.host }} now.\"\n",
			at:      "nwe",
			wantMsg: `template: undefined role "nwe"`,
		},
		{
			name:    "an undefined role in a condition",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    when: roles.nwe.reachable\n",
			at:      "nwe",
			wantMsg: `undefined role "nwe" (declared: old, new)`,
		},
		{
			name:    "an undefined role in a quoted condition",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    when: '\"hub\" in roles.nwe.components'\n",
			at:      "nwe",
			wantMsg: `undefined role "nwe"`,
		},
		{
			name:    "an undefined role after text that is not ASCII",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    text: Größe für {{ roles.nwe.host }} ändern\n    when: '\"Größe\" != roles.nwe.host'\n",
			at:      "nwe",
			nth:     1,
			wantMsg: `template: undefined role "nwe"`,
		},
		{
			name:    "an undefined role in a condition after text that is not ASCII",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    when: '\"Größe\" != roles.nwe.host'\n",
			at:      "nwe",
			wantMsg: `undefined role "nwe"`,
		},
		{
			name:    "an undefined parameter in a condition",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    when: params.prot == 8080\n",
			at:      "prot",
			wantMsg: `undefined parameter "prot" (declared: port, mode)`,
		},
		{
			name:    "an undefined parameter in a template",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    text: Port {{ params.prot }}\n",
			at:      "prot",
			wantMsg: `template: undefined parameter "prot" (declared: port, mode)`,
		},
		{
			name:    "an unknown role field",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    when: roles.old.hostnme == \"x\"\n",
			at:      "hostnme",
			wantMsg: `roles have no field "hostnme" (fields: address, addresses, clock_offset_ms, components, host, host_key, hostname,`,
		},
		{
			name:    "an unknown field of role in a requirement",
			src:     strings.Replace(rbHead, "    title: Server the thing leaves\n", "    title: Server the thing leaves\n    requires:\n      - that: role.reachble\n        because: it must answer\n", 1) + "  - id: s1\n    title: S\n    manual: true\n",
			at:      "reachble",
			wantMsg: `roles have no field "reachble"`,
		},
		{
			name:    "a condition with a syntax error",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    when: params.port == 8080 &&\n",
			at:      "&", // the end of the expression
			nth:     2,
			wantMsg: `in "params.port == 8080 &&": unexpected token EOF`,
		},
		{
			name:    "a condition comparing an int parameter with text",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    when: params.port == \"x\"\n",
			at:      "==",
			wantMsg: "mismatched types int and string",
		},
		{
			name:    "a condition that is not true or false",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    when: params.port + 1\n",
			at:      "params.port + 1",
			wantMsg: "expected bool, but got int",
		},
		{
			name:    "an empty condition",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    when: \"  \"\n",
			at:      "  \"",
			wantMsg: "empty expression",
		},
		{
			name:    "an unclosed {{ in a template",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    text: Port {{ params.port and more\n",
			at:      "{{",
			wantMsg: "unclosed {{ in template",
		},
		{
			name:    "an invalid regular expression in contains",
			src:     "  - id: s1\n    title: S1\n    gates:\n      - newest_file: {role: old, path: logs/*.log, contains: [ok, \"a((\"]}\n",
			at:      `"a(("`,
			wantMsg: `invalid regular expression "a((": missing closing )`,
		},
		{
			name:    "a bad duration in wait",
			src:     "  - id: s1\n    title: S1\n    gates:\n      - file_exists: {role: old, path: x}\n        wait: {timeout: 5x}\n",
			at:      "5x",
			wantMsg: `invalid duration "5x": use a number and a unit such as 30s, 10m, 24h`,
		},
		{
			name:    "a wait without a timeout",
			src:     "  - id: s1\n    title: S1\n    gates:\n      - file_exists: {role: old, path: x}\n        wait: {every: 5s}\n",
			at:      "file_exists",
			wantMsg: "wait needs a timeout greater than zero",
		},
		{
			name:    "a preset setting an undefined parameter",
			src:     strings.Replace(rbHead, "steps:\n", "presets:\n  - id: example\n    params: {port: \"80\", prot: \"81\"}\nsteps:\n", 1) + "  - id: s1\n    title: S\n    manual: true\n",
			at:      "prot",
			wantMsg: `preset example sets undefined parameter "prot" (declared: port, mode)`,
		},
		{
			name:    "a preset giving an invalid value",
			src:     strings.Replace(rbHead, "steps:\n", "presets:\n  - id: example\n    params:\n      mode: reckless\nsteps:\n", 1) + "  - id: s1\n    title: S\n    manual: true\n",
			at:      "reckless",
			wantMsg: `preset example: mode="reckless": expected one of fast, careful, got "reckless"`,
		},
		{
			name:    "a literal default that is not a whole number",
			src:     strings.Replace(rbHead, `default: "8080"`, `default: "eighty"`, 1) + "  - id: s1\n    title: S\n    manual: true\n",
			at:      "eighty",
			wantMsg: `default "eighty": expected a whole number, got "eighty"`,
		},
		{
			name:    "a literal default that is not one of the choices",
			src:     strings.Replace(rbHead, "default: careful", "default: sloppy", 1) + "  - id: s1\n    title: S\n    manual: true\n",
			at:      "sloppy",
			wantMsg: `default "sloppy": expected one of fast, careful`,
		},
		{
			name:    "a manual step with an action",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    action:\n      run: {role: old, command: ls}\n",
			at:      "action",
			wantMsg: "a manual step has no action",
		},
		{
			name:    "optional on a step that is not manual",
			src:     "  - id: s1\n    title: S1\n    optional: true\n    action:\n      run: {role: old, command: ls}\n",
			at:      "optional",
			wantMsg: "only manual steps can be optional",
		},
		{
			name:    "confirm on a step without an action",
			src:     "  - id: s1\n    title: S1\n    confirm: true\n    gates:\n      - file_exists: {role: old, path: x}\n",
			at:      "confirm",
			wantMsg: "confirm: true asks before an action, and this step has none",
		},
		{
			name:    "a step that does nothing",
			src:     "  - id: s1\n    title: S1\n    text: Nothing here.\n",
			at:      "id: s1",
			wantMsg: "step s1: the step does nothing: give it an action, gates, or manual: true",
		},
		{
			name:    "role used outside role requirements",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    when: role.reachable\n",
			at:      "role.reachable",
			wantMsg: "role is only defined in a role's requirements; use roles.NAME here",
		},
		{
			name:    "a position key is not a runbook key",
			src:     "  - id: s1\n    title: S1\n    manual: true\n    pos: {line: 99}\n",
			at:      "pos:",
			wantMsg: `unknown key "pos"`,
		},
		{
			name:    "an empty gate",
			src:     "  - id: s1\n    title: S1\n    gates:\n      - # nothing here\n",
			at:      "- # nothing",
			wantMsg: "empty list item",
		},
		{
			name:    "an empty step",
			src:     "  - id: s1\n    title: S1\n    manual: true\n  - # nothing here\n",
			at:      "- # nothing",
			wantMsg: "empty list item",
		},
		{
			name:    "a step id with capitals",
			src:     "  - id: Stop\n    title: S1\n    manual: true\n",
			at:      "id: Stop",
			wantMsg: `step id "Stop": use lower-case letters`,
		},
		{
			name:    "a text where a number belongs",
			src:     "  - id: s1\n    title: S1\n    action:\n      run: {role: old, command: ls, exit: [zero]}\n",
			at:      "zero",
			wantMsg: "expected a whole number, found text",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src
			if !strings.HasPrefix(src, "id:") {
				src = rbHead + src
			}
			_, err := steps.Parse("rb.yaml", []byte(src))
			rbWantErrAt(t, err, rbPosOf(t, "rb.yaml", src, tt.at, tt.nth), tt.wantMsg)
		})
	}
}

func TestErrorsInsideBlockTextPointAtTheirLine(t *testing.T) {
	tests := []struct {
		name, text, at, wantMsg string
	}{
		{
			name:    "an undefined role on the third line",
			text:    "      First line.\n      Second line.\n      Then {{ roles.nwe.host }}.\n",
			at:      "nwe",
			wantMsg: `undefined role "nwe"`,
		},
		{
			name:    "an unclosed {{ on the second line",
			text:    "      First line.\n      Log in to {{ roles.new.host\n      and go on.\n",
			at:      "{{",
			wantMsg: "unclosed {{ in template",
		},
		{
			name:    "a second template part on a later line",
			text:    "      On {{ roles.old.host }},\n\n        indented {{ params.prot }} here.\n",
			at:      "prot",
			wantMsg: `undefined parameter "prot"`,
		},
		{
			name:    "a type error in a block",
			text:    "      A\n      B {{ params.port + \"x\" }}\n",
			at:      `+ "x"`,
			wantMsg: "mismatched types int and string",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := rbHead + "  - id: s1\n    title: S1\n    manual: true\n    text: |\n" + tt.text
			_, err := steps.Parse("rb.yaml", []byte(src))
			rbWantErrAt(t, err, rbPosOf(t, "rb.yaml", src, tt.at, 0), tt.wantMsg)
		})
	}
	t.Run("a condition written as a block", func(t *testing.T) {
		src := rbHead + "  - id: s1\n    title: S1\n    manual: true\n    when: |\n      params.port == 8080 &&\n        roles.nwe.reachable\n"
		_, err := steps.Parse("rb.yaml", []byte(src))
		rbWantErrAt(t, err, rbPosOf(t, "rb.yaml", src, "nwe", 0), `undefined role "nwe"`)
	})
}

func TestParseReportsEveryErrorSortedByPosition(t *testing.T) {
	src := rbHead + `  - id: first
    title: First
    when: params.nope
    manual: true
  - id: second
    title: Second
    gates:
      - file_exists: {role: nwe, path: x}
  - id: first
    title: Third
    optional: true
    action:
      run: {role: old, command: "echo {{ roles.old.hostnme }}"}
`
	_, err := steps.Parse("rb.yaml", []byte(src))
	var l yamlpos.List
	if !errors.As(err, &l) {
		t.Fatalf("Parse = %T %v, want a yamlpos.List", err, err)
	}
	want := []string{
		rbPosOf(t, "rb.yaml", src, "nope", 0) + `: step first: undefined parameter "nope" (declared: port, mode)`,
		rbPosOf(t, "rb.yaml", src, "nwe", 0) + `: step second, gate 1 (file_exists): undefined role "nwe" (declared: old, new)`,
		rbPosOf(t, "rb.yaml", src, "id: first", 2) + `: step first: duplicate step id "first" (first at line 21)`,
		rbPosOf(t, "rb.yaml", src, "optional", 0) + ": step first: only manual steps can be optional (an action step is skipped by its when: condition)",
		rbPosOf(t, "rb.yaml", src, "hostnme", 0) + `: step first, action run: template: roles have no field "hostnme"`,
	}
	if len(l) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(l), len(want), err)
	}
	for i, e := range l {
		if !strings.HasPrefix(e.Error(), want[i]) {
			t.Errorf("error %d = %q\nwant prefix  %q", i+1, e.Error(), want[i])
		}
	}
}

func TestParseChecksTheRunbookHeader(t *testing.T) {
	tests := []struct {
		name, from, to, wantMsg string
	}{
		{"an id without a system part", "id: test/minimal", "id: minimal", `id "minimal" must look like system/name`},
		{"a missing title", "title: The smallest runbook\n", "", "title is required"},
		{"a missing source", "source: Test manual, section 1\n", "", "source is required"},
		{"no steps", "steps:\n  - id: confirm\n    title: Confirm it is done\n    manual: true\n", "steps: []\n", "a runbook needs at least one step"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(rbMinimal, tt.from, tt.to, 1)
			if src == rbMinimal {
				t.Fatal("test bug: nothing replaced")
			}
			_, err := steps.Parse("rb.yaml", []byte(src))
			rbWantErrAt(t, err, "rb.yaml:1:1", tt.wantMsg)
		})
	}
}

func TestParseRejectsParamDefinitionsThatCannotWork(t *testing.T) {
	tests := []struct {
		name, param, wantMsg string
	}{
		{"an unknown type", "  - id: zz\n    type: integer\n", `parameter zz: unknown type "integer" (known: string, bool, int, choice, host, port, path, regex, command)`},
		{"a choice with one choice", "  - id: zz\n    type: choice\n    choices: [only]\n", "a choice needs at least two choices"},
		{"choices on a string", "  - id: zz\n    choices: [a, b]\n", "choices are only for type choice"},
		{"a secret with a default", "  - id: zz\n    secret: true\n    default: hunter2\n", "a secret cannot have a default"},
		{"a reject entry without a reason", "  - id: zz\n    reject:\n      - match: x\n", "each reject entry needs match: and because:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(rbHead, "steps:\n", tt.param+"steps:\n", 1) + "  - id: s1\n    title: S\n    manual: true\n"
			_, err := steps.Parse("rb.yaml", []byte(src))
			rbWantErrAt(t, err, rbPosOf(t, "rb.yaml", src, "id: zz", 0), tt.wantMsg)
		})
	}
}

// rbPosOf returns file:line:col of the nth (1-based; 0 means the only) occurrence of
// needle in src.
func rbPosOf(t *testing.T, file, src, needle string, nth int) string {
	t.Helper()
	var found []string
	for i, l := range strings.Split(src, "\n") {
		for off := 0; ; {
			c := strings.Index(l[off:], needle)
			if c < 0 {
				break
			}
			// Columns count characters, not bytes.
			found = append(found, fmt.Sprintf("%s:%d:%d", file, i+1, utf8.RuneCountInString(l[:off+c])+1))
			off += c + len(needle)
		}
	}
	switch {
	case nth == 0 && len(found) == 1:
		return found[0]
	case nth > 0 && nth <= len(found):
		return found[nth-1]
	}
	t.Fatalf("test bug: %q occurs %d times in the runbook (wanted occurrence %d)", needle, len(found), nth)
	return ""
}

// rbWantErrAt fails unless err holds an error at pos whose message contains msg.
func rbWantErrAt(t *testing.T, err error, pos, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Parse succeeded, want %s: ...%s...", pos, msg)
	}
	all := yamlpos.Errors(err)
	if len(all) == 0 {
		t.Fatalf("error %T %v has no position", err, err)
	}
	for _, e := range all {
		if e.Pos.String() == pos && strings.Contains(e.Msg, msg) {
			return
		}
	}
	t.Errorf("want an error at %s containing %q, got:\n%v", pos, msg, err)
}
