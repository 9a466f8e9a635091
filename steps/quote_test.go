package steps

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// payloads are values that would run code, split words or pass an option if a command
// took them as text: quotes of every kind, separators, substitutions, newlines, a
// leading dash, and PowerShell's typographic quotes.
var payloads = []string{
	`it's`,
	`say "hi"`,
	`a; touch CANARY`,
	`$(touch CANARY)`,
	"`touch CANARY`",
	"line one\ntouch CANARY\n",
	`-rf`,
	`--output=/etc/passwd`,
	"\u2018single\u2019 \u201alow\u201b",
	`'; touch CANARY; echo '`,
	`\'; touch CANARY #`,
	`${IFS}touch${IFS}CANARY`,
	`*`,
	`a b	c`,
	``,
	`%PATH% & echo`,
}

// TestShellQuotingRunsNothing sends every payload through a real /bin/sh as one quoted
// word: the shell gets it back byte for byte as a single argument, and the canary
// file a payload would create never appears.
func TestShellQuotingRunsNothing(t *testing.T) {
	dir := t.TempDir()
	for _, p := range payloads {
		word, err := quoteValue(p, forSh, "params.x")
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		// printf prints each argument between < and >: one argument, the payload itself.
		cmd := exec.Command("/bin/sh", "-c", "printf '<%s>' "+word)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != "<"+p+">" {
			t.Errorf("%q quoted as %s: the shell printed %q (%v)", p, word, out, err)
		}
	}
	// A list is one word per element.
	words, err := quoteValue(payloads, forSh, "params.x")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", "printf '<%s>' "+words)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	want := "<" + strings.Join(payloads, "><") + ">"
	if err != nil || string(out) != want {
		t.Errorf("a list of payloads printed\n%q\nwant\n%q (%v)", out, want, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "CANARY")); !os.IsNotExist(err) {
		t.Fatal("a quoted payload ran: the canary exists")
	}
}

// TestPowerShellQuotingText: no PowerShell here, so the exact text of each literal is
// checked: single quotes, with every quote character PowerShell knows doubled.
func TestPowerShellQuotingText(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{`it's`, `'it''s'`},
		{"\u2018a\u2019b\u201ac\u201bd", "'\u2018\u2018a\u2019\u2019b\u201a\u201ac\u201b\u201bd'"},
		{`$(Remove-Item C:\)`, `'$(Remove-Item C:\)'`},
		{`say "hi"; exit`, `'say "hi"; exit'`},
		{"two\nlines", "'two\nlines'"},
		{"`n", "'`n'"},
		{`-Force`, `'-Force'`},
		{"", "''"},
		{nil, "''"},
		{[]string{"10.0.0.1", "o'neil"}, `@('10.0.0.1','o''neil')`},
		{[]string{}, `@()`},
		{[]any{"a", 2, true}, `@('a',2,$true)`},
		{true, `$true`},
		{false, `$false`},
		{8080, `8080`},
		{-3, `-3`},
		{1.5, `1.5`},
	} {
		got, err := quoteValue(tc.v, forPS, "x")
		if err != nil || got != tc.want {
			t.Errorf("%#v: %s (%v), want %s", tc.v, got, err, tc.want)
		}
	}
}

func TestQuotingRefusesWhatCannotBeAWord(t *testing.T) {
	for _, tc := range []struct {
		v    any
		q    quoting
		want string
	}{
		{"a\x00b", forSh, "NUL byte"},
		{"a\x00b", forPS, "NUL byte"},
		{[]string{"ok", "a\x00"}, forSh, "NUL byte"},
		{[]string{}, forSh, "is an empty list"},
		{map[string]string{"a": "b"}, forSh, "is a map, which cannot be a command argument"},
		{[]any{[]string{"nested"}}, forPS, "a list holding a slice"},
	} {
		_, err := quoteValue(tc.v, tc.q, "roles.a.settings")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "{{ roles.a.settings }}") {
			t.Errorf("%#v for %s: %v, want an error naming the value and %q", tc.v, tc.q, err, tc.want)
		}
	}
	// As data (paths, INI values, operator text) values are written as they are.
	if got, _ := quoteValue("it's $(x)", asData, "x"); got != "it's $(x)" {
		t.Errorf("data is changed: %q", got)
	}
}

func TestHoleContexts(t *testing.T) {
	const ok = ""
	for _, tc := range []struct {
		q    quoting
		src  string // H marks each {{ }}
		want []string
	}{
		{forSh, "cat H/lui.ini", []string{ok}},
		{forSh, "grep -F -e H -- H H", []string{ok, ok, ok}},
		{forSh, "conf=H; x=$(dirname H); echo \"$(cat H)\"", []string{ok, ok, ok}},
		{forSh, "cat 'H'", []string{"inside single quotes"}},
		{forSh, "echo \"H\"", []string{"inside double quotes"}},
		{forSh, "echo 'it''s' H \"q\" H", []string{ok, ok}},
		{forSh, "echo \\'H", []string{ok}},
		{forSh, "echo \\H", []string{"right after a backslash"}},
		{forSh, "echo $H", []string{"right after $"}},
		{forSh, "echo `cat H`", []string{"inside backquotes"}},
		{forSh, "echo ${x:-H}", []string{"inside ${...}"}},
		{forSh, "echo $((H + 1))", []string{"inside $((...))"}},
		{forSh, "echo x # H\necho H", []string{"inside a comment", ok}},
		{forSh, "echo a#H", []string{ok}},
		{forSh, "cat <<EOF >f\nline H\nEOF\necho H", []string{"inside a here-document", ok}},
		{forSh, "cat <<-'END'\n\tH\n\tEND\nH", []string{"inside a here-document", ok}},
		{forSh, "cat <<EOF; cat <<TWO\nH\nEOF\nH\nTWO\nH", []string{"inside a here-document", "inside a here-document", ok}},
		{forSh, "echo \"$(echo 'x' H)\"", []string{ok}},
		{forSh, "echo \"$(echo \"H\")\"", []string{"inside double quotes"}},
		{forSh, "cat <<<H", []string{ok}},
		{forPS, "Join-Path H 'App\\x.exe'", []string{ok}},
		{forPS, "Get-Item -LiteralPath 'H'", []string{"inside single quotes"}},
		{forPS, "Get-Item \u2018H\u2019", []string{"inside single quotes"}},
		{forPS, "Write-Output \"H\"", []string{"inside double quotes"}},
		{forPS, "Write-Output \u201cH\u201d", []string{"inside double quotes"}},
		{forPS, "'it''s' + H; \"a\"\"b\" + H", []string{ok, ok}},
		{forPS, "Write-Output \"$(H)\"", []string{ok}},
		{forPS, "Get-Item H\\App", []string{"directly followed by text"}},
		{forPS, "Get-Item `H", []string{"right after a backtick"}},
		{forPS, "$H", []string{"right after $"}},
		{forPS, "x # H\ny H", []string{"inside a comment", ok}},
		{forPS, "<# H #> H", []string{"inside a comment", ok}},
		{forPS, "$s = @'\nH\n'@\nH", []string{"inside a here-string", ok}},
		{forPS, "$s = @\"\nH\n\"@; H", []string{"inside a here-string", ok}},
		{forPS, "Select-String -Pattern H; exit", []string{ok}},
		{forPS, "(H).Length", []string{ok}},
	} {
		got := holeContexts(tc.q, strings.Split(tc.src, "H"))
		if len(got) != len(tc.want) {
			t.Fatalf("%q: %d holes", tc.src, len(got))
		}
		for i := range got {
			if (tc.want[i] == ok) != (got[i] == ok) || !strings.Contains(got[i], tc.want[i]) {
				t.Errorf("%s %q, hole %d: %q, want %q", tc.q, tc.src, i+1, got[i], tc.want[i])
			}
		}
	}
}

// TestCommandTemplates: in command text every value is quoted for the host's shell;
// raw(...) and parameters of type command are the only ways to insert code, each a
// warning with its place; elsewhere values are data.
func TestCommandTemplates(t *testing.T) {
	src := `id: test/quote
title: Quoting
system: Test
source: the tests
roles:
  - {id: a, title: first host}
params:
  - {id: word, title: A word, type: string, default: "it's $(touch CANARY)"}
  - {id: list, title: Words, type: string, default: "x y"}
  - {id: sync, title: A command, type: command, default: "echo one && echo two"}
steps:
  - id: s
    title: S
    text: "Operator text: {{ params.word }}"
    action:
      run: {role: a, command: "printf '<%s>' {{ params.word }} {{ split(params.list, ' ') }}; {{ params.sync }}; {{ raw('echo raw') }}", powershell: "Write-Output {{ params.word }} {{ split(params.list, ' ') }}"}
`
	rb, err := Parse("quote.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, w := range rb.Warnings {
		warnings = append(warnings, w.String())
	}
	want := []string{
		"quote.yaml:16:95: warning: step s, action run: command: {{ params.sync }}: params.sync is of type command: its value is inserted unquoted, as shell code",
		"quote.yaml:16:114: warning: step s, action run: command: {{ raw('echo raw') }}: raw(...) inserts its value unquoted, as shell code",
	}
	if !slices.Equal(warnings, want) {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(warnings, "\n"), strings.Join(want, "\n"))
	}
	f := newFixture(t, "h1", "h2", "h3")
	x := f.exec(rb, "s", map[string]string{"a": "h1"}, nil)
	rec := runAction(t, x)
	wantCmd := `printf '<%s>' 'it'\''s $(touch CANARY)' x y; echo one && echo two; echo raw`
	if len(rec.Commands) != 1 || rec.Commands[0] != wantCmd {
		t.Errorf("command %q, want %q", rec.Commands, wantCmd)
	}
	if !rec.OK || !slices.Contains(rec.Output, "h1: <it's $(touch CANARY)><x><y>one") || !slices.Contains(rec.Output, "h1: raw") {
		t.Errorf("the command did not get the value as one word: %+v", rec)
	}
	if _, err := os.Stat(f.path("h1", "CANARY")); !os.IsNotExist(err) {
		t.Error("a quoted value ran")
	}
	f.hosts["h1"].Shell = "powershell"
	cmd, err := commandFor(f.exec(rb, "s", map[string]string{"a": "h1"}, nil), "a", x.step.Action.Spec.(*RunAction).Run, x.step.Action.Spec.(*RunAction).PowerShell)
	if want := `Write-Output 'it''s $(touch CANARY)' @('x','y')`; err != nil || cmd != want {
		t.Errorf("PowerShell command %q (%v), want %q", cmd, err, want)
	}
	if d := x.mustRender(x.step.Text); d != "Operator text: it's $(touch CANARY)" {
		t.Errorf("operator text is quoted: %q", d)
	}
}

func TestCommandTemplateErrors(t *testing.T) {
	for _, tc := range []struct{ step, want string }{
		{`action: {run: {role: a, command: "cat '{{ params.p }}'"}}`,
			`rb.yaml:11:44: step s, action run: {{ params.p }} is inside single quotes, which the value's own quoting would end: cutover quotes every value for POSIX sh itself`},
		{`action: {run: {role: a, powershell: "Get-Item \"{{ params.p }}\""}}`,
			`is inside double quotes, where PowerShell would still expand`},
		{`gates: [{command: {role: a, run: "echo {{ params.p }}", powershell: "Get-Item {{ params.p }}\\x"}}]`,
			`directly followed by text, which PowerShell would pass as a second argument`},
		{`gates: [{file_exists: {role: a, path: "{{ raw(params.p) }}"}}]`,
			`raw(...) is only for command text`},
		{`text: "{{ raw(params.p) }}"`, `raw(...) is only for command text`},
		{`action: {run: {role: a, command: "echo {{ raw(params.p) + 'x' }}"}}`, `raw(...) must be the whole of its {{ }}`},
		{`action: {run: {role: a, command: "echo {{ 'a' + raw(params.p) }}"}}`, `raw(...) must be the whole of its {{ }}`},
		{`when: raw(params.p) == 'x'` + "\n    manual: true", `raw(...) is only for command text`},
	} {
		src := "id: test/unit\ntitle: T\nsystem: T\nsource: T\nroles:\n  - {id: a, title: A}\nparams:\n  - {id: p, title: P, default: x}\n" +
			"steps:\n  - id: s\n    " + tc.step + "\n    title: S\n"
		_, err := Parse("rb.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %q", tc.step, err, tc.want)
		}
	}
	// A quoted value in a raw(...) is the author's own business.
	src := "id: test/unit\ntitle: T\nsystem: T\nsource: T\nroles:\n  - {id: a, title: A}\nparams:\n  - {id: p, title: P, default: x}\n" +
		"steps:\n  - id: s\n    title: S\n    action: {run: {role: a, command: \"echo '{{ raw(params.p) }}'\"}}\n"
	if rb, err := Parse("rb.yaml", []byte(src)); err != nil || len(rb.Warnings) != 1 {
		t.Errorf("raw inside quotes: %v", err)
	}
}
