package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestBadInputEverywhere: malformed inventories, runbooks, run files, answer
// files and flags end with exit 2 and a message that says where (file:line:col for
// files, the flag for flags) and what is wrong, and nothing on any host changes: the
// lab's audit log gains no line and every host's files stay as they were.
func TestBadInputEverywhere(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	inv := l.Inventory()
	dir := t.TempDir()
	file := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Run files live in the lab's runs folder so that their inventory path resolves.
	runFile := func(name, content string) string {
		t.Helper()
		p := filepath.Join(l.Dir(), "runs", name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := readFile(t, l.runFile())
	edit := func(old, new string) string {
		t.Helper()
		if !strings.Contains(good, old) {
			t.Fatalf("the run file lacks %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	// line is the line of good on which s starts.
	line := func(s string) int {
		t.Helper()
		i := strings.Index(good, s)
		if i < 0 {
			t.Fatalf("the run file lacks %q", s)
		}
		return strings.Count(good[:i], "\n") + 1
	}
	runbook := func(stepsYAML string) string {
		return `id: site/bad
title: A runbook with a mistake
system: Site
source: the tests
roles:
  - {id: app, title: the server}
params:
  - {id: level, title: Level, type: int, default: "1"}
steps:
` + stepsYAML
	}
	move := func(invPath string) []string {
		return append(append([]string{"run", "maestro/move-hub", "-i", invPath}, roleArgs...), "--headless", "--journal-dir", dir)
	}
	runRB := func(p string) []string {
		return []string{"run", p, "-i", inv, "--role", "app=lui", "--headless", "--journal-dir", dir}
	}
	from := func(p string) []string { return []string{"run", "--from", p, "--headless", "--journal-dir", dir} }
	// An alias bomb: nine lines of anchors, each ten aliases of the one before, stand
	// for 10^9 values once expanded; the sixth already for a million.
	bomb := "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	for i := 1; i <= 8; i++ {
		bomb += fmt.Sprintf("a%d: &a%d [%s*a%d]\n", i, i, strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), i-1)
	}
	// A run file of 100 MB in one line (a sparse file: it takes no disk).
	huge := runFile("huge.yaml", "runbook: maestro/move-hub\nnote: ")
	if err := os.Truncate(huge, 100<<20); err != nil {
		t.Fatal(err)
	}
	at := func(p string, line int, what string) string {
		return regexp.QuoteMeta(p) + ":" + strconv.Itoa(line) + `:\d+: .*` + what
	}

	tests := []struct {
		name string
		args []string
		re   string // must match the output
	}{
		// Inventories.
		{"inventory syntax", move(file("inv-syntax.yaml", "hosts:\n  hub:\n    address: 127.0.0.1\n    port: [22\n")),
			regexp.QuoteMeta(filepath.Join(dir, "inv-syntax.yaml")) + `:\d+:\d+: `},
		{"inventory type", move(file("inv-type.yaml", "hosts:\n  hub:\n    address: 127.0.0.1\n    port: twenty-two\n")),
			at(filepath.Join(dir, "inv-type.yaml"), 4, "whole number")},
		{"inventory unknown key", move(file("inv-key.yaml", "hosts:\n  hub:\n    adress: 127.0.0.1\n")),
			at(filepath.Join(dir, "inv-key.yaml"), 3, "adress")},
		{"inventory duplicate host", move(file("inv-dup.yaml", "hosts:\n  hub:\n    address: 127.0.0.1\n  hub:\n    address: 127.0.0.2\n")),
			at(filepath.Join(dir, "inv-dup.yaml"), 4, "hub")},
		{"inventory empty", move(file("inv-empty.yaml", "")), at(filepath.Join(dir, "inv-empty.yaml"), 1, "empty")},
		{"inventory alias bomb", move(file("inv-bomb.yaml", bomb+"hosts:\n  hub: {address: 127.0.0.1}\n")), at(filepath.Join(dir, "inv-bomb.yaml"), 6, "alias bomb")},
		{"inventory nesting", move(file("inv-deep.yaml", "hosts: "+strings.Repeat("[", 50000)+"\n")), at(filepath.Join(dir, "inv-deep.yaml"), 1, "nest more than 64 deep")},

		// Runbooks.
		{"runbook syntax", runRB(file("rb-syntax.yaml", runbook("  - id: a\n    title: [unclosed\n"))),
			regexp.QuoteMeta(filepath.Join(dir, "rb-syntax.yaml")) + `:\d+:\d+: `},
		{"runbook unknown key", runRB(file("rb-key.yaml", runbook("  - id: a\n    title: A\n    acton: {run: {role: app, command: 'true'}}\n"))),
			at(filepath.Join(dir, "rb-key.yaml"), 12, "acton")},
		{"runbook bad condition", runRB(file("rb-when.yaml", runbook("  - id: a\n    title: A\n    manual: true\n    when: params.levle > 1\n"))),
			at(filepath.Join(dir, "rb-when.yaml"), 13, "levle")},
		{"runbook unknown role", runRB(file("rb-role.yaml", runbook("  - id: a\n    title: A\n    action: {run: {role: db, command: 'true'}}\n"))),
			at(filepath.Join(dir, "rb-role.yaml"), 12, "db")},
		{"runbook duplicate step", runRB(file("rb-dup.yaml", runbook("  - {id: a, title: A, manual: true}\n  - {id: a, title: B, manual: true}\n"))),
			at(filepath.Join(dir, "rb-dup.yaml"), 11, `\ba\b`)},
		{"runbook alias bomb", runRB(file("rb-bomb.yaml", bomb+runbook("  - {id: a, title: A, manual: true}\n"))), at(filepath.Join(dir, "rb-bomb.yaml"), 6, "alias bomb")},
		{"runbook unknown check", runRB(file("rb-check.yaml", runbook("  - id: a\n    title: A\n    gates:\n      - file_there: {role: app, path: x}\n"))),
			at(filepath.Join(dir, "rb-check.yaml"), 13, "file_there")},

		// Run files.
		{"run file syntax", from(runFile("syntax.yaml", edit("roles:\n", "roles: [\n"))), regexp.QuoteMeta(filepath.Join(l.Dir(), "runs", "syntax.yaml")) + `:\d+:\d+: `},
		{"run file alias bomb", from(runFile("bomb.yaml", bomb+good)), at(filepath.Join(l.Dir(), "runs", "bomb.yaml"), 6, "alias bomb")},
		{"run file of 100 MB", from(huge), at(huge, 2, "larger than 2 MiB")},
		{"run file unknown key", from(runFile("key.yaml", edit("params:\n", "parameters:\n"))), at(filepath.Join(l.Dir(), "runs", "key.yaml"), line("params:\n"), "parameters")},
		{"run file unknown runbook", from(runFile("runbook.yaml", edit("runbook: maestro/move-hub", "runbook: maestro/move-hubb"))),
			at(filepath.Join(l.Dir(), "runs", "runbook.yaml"), line("runbook:"), `no runbook "maestro/move-hubb"`)},
		{"run file unknown role", from(runFile("role.yaml", edit("  trk: trk\n", "  trk: trk\n  db: hub\n"))),
			at(filepath.Join(l.Dir(), "runs", "role.yaml"), line("  trk: trk\n")+1, `unknown role "db"`)},
		{"run file unknown host", from(runFile("host.yaml", edit("  new: spare\n", "  new: sparrow\n"))),
			at(filepath.Join(l.Dir(), "runs", "host.yaml"), line("  new: spare\n"), `role new: host "sparrow" is not in the inventory`)},
		{"run file bad parameter", from(runFile("param.yaml", edit("database: internal", "database: oracle"))),
			at(filepath.Join(l.Dir(), "runs", "param.yaml"), line("database: internal"), "parameter database: expected one of internal, external")},
		{"run file unknown parameter", from(runFile("uparam.yaml", edit("  hosted_lists: false\n", "  hosted_lists: false\n  colour: blue\n"))),
			at(filepath.Join(l.Dir(), "runs", "uparam.yaml"), line("  hosted_lists: false\n")+1, `unknown parameter "colour"`)},
		{"run file answer for unknown step", from(runFile("step.yaml", edit("  stop-listserv:\n", "  stop-listservv:\n"))),
			at(filepath.Join(l.Dir(), "runs", "step.yaml"), line("  stop-listserv:\n"), `unknown step "stop-listservv"`)},
		{"run file bad unknown answer", from(runFile("unknown.yaml", edit("    confirm: true\n", "    unknown: maybe\n"))),
			at(filepath.Join(l.Dir(), "runs", "unknown.yaml"), line("    confirm: true\n")-1, "must be accept or rerun")},
		{"run file command without role", from(runFile("cmd.yaml", edit(`run: {role: new, command: "maestro-setup install --components hub"}`, `run: {command: "maestro-setup install --components hub"}`))),
			at(filepath.Join(l.Dir(), "runs", "cmd.yaml"), line("  install-fresh:\n"), "run needs role and command")},
		{"run file for another runbook", append(from(l.runFile()), "maestro/other"), at(l.runFile(), line("runbook:"), "the run file is for maestro/move-hub, not maestro/other")},
		{"answers file", append(move(inv), "--answers", file("answers.yaml", "answers:\n  install-fresh:\n    skip: not today\n")),
			at(filepath.Join(dir, "answers.yaml"), 2, "not optional")},

		// Flags.
		{"unknown flag", []string{"run", "--from", l.runFile(), "--frobnicate"}, "unknown flag: --frobnicate"},
		{"bad pair", append(move(inv), "--role", "old"), `expected KEY=VALUE, got "old"`},
		{"bad duration", append(move(inv), "--keepalive", "soon"), `invalid argument "soon" for "--keepalive" flag`},
		{"zero keepalive", append(move(inv), "--keepalive-timeout", "0s"), "--keepalive and --keepalive-timeout must be positive"},
		{"break-lock without reason", append(move(inv), "--break-lock", "x"), "--break-lock needs a reason"},
		{"two runbooks", []string{"run", "a/b", "c/d", "--headless"}, "give one runbook, not 2"},
		{"role flag unknown", append(move(inv), "--role", "db=hub"), `unknown role "db"`},
		{"set flag bad value", append(move(inv), "--set", "hub_external_port=99999"), "parameter hub_external_port: a port is a number from 1 to 65535"},
		{"resume a file that is no journal", []string{"resume", l.runFile(), "--headless"}, regexp.QuoteMeta(l.runFile()) + `:1: damaged journal line`},
		{"replay two journals", []string{"replay", "a.jsonl", "b.jsonl"}, "give the journal file of the run to replay"},
		{"replay missing journal", []string{"replay", filepath.Join(dir, "none.jsonl")}, "none.jsonl"},
	}
	before := hostsTree(t, l)
	auditBefore, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cutover(t, tc.args...)
			if r.code != 2 {
				t.Fatalf("want exit 2, got %s", r)
			}
			if !regexp.MustCompile(tc.re).MatchString(r.out()) {
				t.Errorf("output does not match %s:\n%s", tc.re, r)
			}
		})
	}
	after, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range after[len(auditBefore):] {
		t.Errorf("bad input reached a host: %+v", e)
	}
	if got := hostsTree(t, l); got != before {
		t.Errorf("bad input changed the hosts:\n%s", diffTrees(before, got))
	}
}

// hostsTree lists every file of every lab host with its content's hash.
func hostsTree(t *testing.T, l *testLab) string {
	t.Helper()
	var parts []string
	for _, h := range []string{"lui", "hub", "trk", "spare"} {
		parts = append(parts, strings.ReplaceAll(treeOf(t, l.HostRoot(h)), "\n", "\n"+h+":"))
	}
	return strings.Join(parts, "\n")
}
