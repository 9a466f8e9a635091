package steps_test

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
)

// TestOperatorTextEscapesValues: a value a host reports (here its name) lands in a
// step's operator text, which is Markdown, as text wherever it goes: escaped in a
// sentence, a table row and at the start of a line; kept to one line, backticks shown
// as ˋ, inside a code span and a fenced block. The runbook's own Markdown, including a
// choice between two of its own sentences, is left as it is, and a secret in a value is
// still removed.
func TestOperatorTextEscapesValues(t *testing.T) {
	rb := parseRunbook(t, `  - id: read
    title: Read
    manual: true
    text: |
      The **old** host is {{ roles.a.hostname }}.
      Run `+"`ping {{ roles.a.hostname }}`"+` first.
      {{ roles.a.hostname }}
      | host | name |
      | --- | --- |
      | a | {{ roles.a.hostname }} |
      `+"```"+`
      ssh {{ roles.a.hostname }}
      `+"```"+`
      {{ params.word == "hello" ? "Say **hello**." : "Say nothing." }} And {{ params.word }}.
      {{ params.word }}
`)
	lh := newLocalHosts(t, "h1")
	hostile := "evil`x` <img src=x onerror=alert(1)> [x](javascript:alert(1)) | y\n- [x] step done"
	facts := map[string]*probe.Facts{"h1": {Name: "h1", Reachable: true, Hostname: hostile}}
	plan, err := steps.Prepare(rb, lh.lookup, steps.Inputs{Roles: map[string]string{"a": "h1"}, Params: map[string]string{"password": "s3cret*", "word": "hello"}}, facts)
	if err != nil {
		t.Fatal(err)
	}
	d, err := plan.Describe("read")
	if err != nil {
		t.Fatal(err)
	}
	want := "The **old** host is evil\\`x\\` \\<img src=x onerror=alert(1)> \\[x\\](javascript:alert(1)) | y\\n- \\[x\\] step done.\n" +
		"Run `ping evilˋxˋ <img src=x onerror=alert(1)> [x](javascript:alert(1)) | y\\n- [x] step done` first.\n" +
		"evil\\`x\\` \\<img src=x onerror=alert(1)> \\[x\\](javascript:alert(1)) | y\\n- \\[x\\] step done\n" +
		"| host | name |\n| --- | --- |\n" +
		"| a | evil\\`x\\` \\<img src=x onerror=alert(1)> \\[x\\](javascript:alert(1)) \\| y\\n- \\[x\\] step done |\n" +
		"```\nssh evilˋxˋ <img src=x onerror=alert(1)> [x](javascript:alert(1)) | y\\n- [x] step done\n```\n" +
		"Say **hello**. And hello.\nhello\n"
	if d.Text != want {
		t.Errorf("text:\n%s\nwant:\n%s", d.Text, want)
	}
	if strings.Count(d.Text, "\n") != strings.Count(want, "\n") {
		t.Errorf("a value added lines")
	}
	// A value at the start of a line cannot make it a list item, a heading or a quote.
	for word, line := range map[string]string{"- [x] forged": `\- \[x\] forged`, "# forged": `\# forged`, "1. forged": `1\. forged`, "> quoted": `\> quoted`} {
		plan, err := steps.Prepare(rb, lh.lookup, steps.Inputs{Roles: map[string]string{"a": "h1"}, Params: map[string]string{"password": "pw", "word": word}}, facts)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := plan.Describe("read")
		if !strings.HasSuffix(d.Text, "\n"+line+"\n") {
			t.Errorf("%q at the start of a line: %q", word, d.Text[strings.LastIndex(d.Text[:len(d.Text)-1], "\n")+1:])
		}
	}
}
