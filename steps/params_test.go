package steps_test

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/steps"
)

// paramCase is one input to Param.Parse and what must come of it.
type paramCase struct {
	in   string
	want any    // the typed value, when accepted
	err  string // part of the error, when refused
}

func checkParamCases(t *testing.T, p *steps.Param, cases []paramCase) {
	t.Helper()
	for _, c := range cases {
		name := "accepts " + c.in
		if c.err != "" {
			name = "refuses " + c.in
		}
		t.Run(name, func(t *testing.T) {
			got, err := p.Parse(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("Parse(%q) = %v, %v; want an error containing %q", c.in, got, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.in, err)
			}
			if got != c.want {
				t.Errorf("Parse(%q) = %#v, want %#v", c.in, got, c.want)
			}
		})
	}
}

func TestParamParseString(t *testing.T) {
	checkParamCases(t, &steps.Param{ID: "s", Type: steps.TypeString}, []paramCase{
		{in: "hello", want: "hello"},
		{in: "  spaced  ", want: "spaced"},
		{in: "", err: "a value is required"},
		{in: "   ", err: "a value is required"},
	})
	t.Run("an optional parameter may be empty", func(t *testing.T) {
		checkParamCases(t, &steps.Param{ID: "s", Type: steps.TypeString, Optional: true}, []paramCase{{in: "", want: ""}})
	})
}

func TestParamParseBool(t *testing.T) {
	p := &steps.Param{ID: "b", Type: steps.TypeBool}
	checkParamCases(t, p, []paramCase{
		{in: "yes", want: true}, {in: "Yes", want: true}, {in: "y", want: true}, {in: "on", want: true},
		{in: "true", want: true}, {in: "TRUE", want: true}, {in: "1", want: true},
		{in: "no", want: false}, {in: "NO", want: false}, {in: "n", want: false}, {in: "off", want: false},
		{in: "false", want: false}, {in: "0", want: false},
		{in: "", want: false},
		{in: "maybe", err: `expected yes or no, got "maybe"`},
		{in: "2", err: "expected yes or no"},
	})
}

func TestParamParseInt(t *testing.T) {
	checkParamCases(t, &steps.Param{ID: "i", Type: steps.TypeInt}, []paramCase{
		{in: "42", want: 42}, {in: "-3", want: -3}, {in: " 7 ", want: 7}, {in: "0", want: 0},
		{in: "4.5", err: `expected a whole number, got "4.5"`},
		{in: "ten", err: "expected a whole number"},
		{in: "", err: "a value is required"},
	})
}

func TestParamParsePort(t *testing.T) {
	checkParamCases(t, &steps.Param{ID: "p", Type: steps.TypePort}, []paramCase{
		{in: "1", want: 1}, {in: "80", want: 80}, {in: "65535", want: 65535},
		{in: "0", err: `a port is a number from 1 to 65535, got "0"`},
		{in: "65536", err: "from 1 to 65535"},
		{in: "-1", err: "from 1 to 65535"},
		{in: "http", err: "from 1 to 65535"},
		{in: "80.5", err: "from 1 to 65535"},
	})
}

func TestParamParseChoice(t *testing.T) {
	checkParamCases(t, &steps.Param{ID: "c", Type: steps.TypeChoice, Choices: []string{"internal", "external"}}, []paramCase{
		{in: "internal", want: "internal"},
		{in: " external ", want: "external"},
		{in: "Internal", err: `expected one of internal, external, got "Internal"`},
		{in: "both", err: "expected one of internal, external"},
	})
}

func TestParamParseHost(t *testing.T) {
	long := strings.Repeat("a", 63)
	checkParamCases(t, &steps.Param{ID: "h", Type: steps.TypeHost}, []paramCase{
		{in: "hub", want: "hub"},
		{in: "hub.example.com", want: "hub.example.com"},
		{in: "hub-2.Example.COM", want: "hub-2.Example.COM"},
		{in: "hub.example.com.", want: "hub.example.com."},
		{in: "10.0.0.12", want: "10.0.0.12"},
		{in: "2001:db8::1", want: "2001:db8::1"},
		{in: "::1", want: "::1"},
		{in: long + ".example", want: long + ".example"},
		{in: "hub:8080", err: `carries a port (8080): give the host name "hub" alone`},
		{in: "10.0.0.1:22", err: "carries a port (22)"},
		{in: "[2001:db8::1]:443", err: "carries a port (443)"},
		{in: "http://hub.example", err: "is a URL; give only the host name"},
		{in: "https://hub.example:8443/path", err: "is a URL"},
		{in: "a b", err: `"a b" is not a valid host name`},
		{in: "hub_1.example", err: `label "hub_1"`},
		{in: "-hub.example", err: `label "-hub"`},
		{in: "hub-.example", err: `label "hub-"`},
		{in: "hub..example", err: `label ""`},
		{in: "a" + long + ".example", err: "is not a valid host name"},
		{in: strings.Repeat("abcdefghi.", 26), err: "longer than 253 characters"},
		{in: "[2001:db8::1]", err: "contains ':'"},
		{in: "", err: "a value is required"},
	})
}

func TestParamParsePathTakesAnyText(t *testing.T) {
	checkParamCases(t, &steps.Param{ID: "d", Type: steps.TypePath}, []paramCase{
		{in: `C:\Program Files\Maestro`, want: `C:\Program Files\Maestro`},
		{in: "/opt/maestro", want: "/opt/maestro"},
	})
}

// paramsFromYAML loads the parameters of a runbook, so patterns are compiled as the
// loader compiles them.
func paramsFromYAML(t *testing.T, params string) *steps.Runbook {
	t.Helper()
	src := "id: test/params\ntitle: P\nsystem: S\nsource: M\nparams:\n" + params + "steps:\n  - id: s\n    title: S\n    manual: true\n"
	rb, err := steps.Parse("params.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rb
}

func TestParamPatternMustMatchTheWholeValue(t *testing.T) {
	rb := paramsFromYAML(t, `  - id: code
    title: Site code
    pattern: "[a-z]{3}[0-9]"
  - id: either
    title: Either
    pattern: "a|ab"
`)
	t.Run("site code", func(t *testing.T) {
		checkParamCases(t, rb.Param("code"), []paramCase{
			{in: "abc1", want: "abc1"},
			{in: "ab1", err: `"ab1" does not match [a-z]{3}[0-9]`},
			{in: "xabc1", err: "does not match"},
			{in: "abc12", err: "does not match"},
		})
	})
	t.Run("alternatives", func(t *testing.T) {
		checkParamCases(t, rb.Param("either"), []paramCase{
			{in: "a", want: "a"},
			{in: "ab", want: "ab"},
			{in: "abc", err: "does not match"},
		})
	})
}

func TestParamRejectRefusesWithTheReason(t *testing.T) {
	rb := paramsFromYAML(t, `  - id: hub_host
    title: Hub host
    type: host
    reject:
      - match: '^localhost$'
        because: the other servers must reach the Hub, not themselves
      - match: '^127\.'
        because: a loopback address only works on the Hub itself
`)
	checkParamCases(t, rb.Param("hub_host"), []paramCase{
		{in: "hub.example", want: "hub.example"},
		{in: "localhost.example", want: "localhost.example"},
		{in: "localhost", err: `"localhost" refused: the other servers must reach the Hub, not themselves`},
		{in: "127.0.0.1", err: "refused: a loopback address only works on the Hub itself"},
		{in: "hub:80", err: "carries a port"},
	})
}

func TestParamDisplay(t *testing.T) {
	if got := (&steps.Param{ID: "pw", Secret: true}).Display("hunter2"); got != "[secret]" {
		t.Errorf("a secret displays as %q", got)
	}
	if got := (&steps.Param{ID: "n", Type: steps.TypeInt}).Display(42); got != "42" {
		t.Errorf("an int displays as %q", got)
	}
	if got := (&steps.Param{ID: "n"}).Display(nil); got != "" {
		t.Errorf("no value displays as %q", got)
	}
}

// TestPathAndCommandParams: a path is refused with a control character (a newline
// would start a second command or log line) or a leading '-' (an option); a command
// parameter is one line. Spaces, quotes and $ are fine: commands quote values.
func TestPathAndCommandParams(t *testing.T) {
	checkParamCases(t, &steps.Param{ID: "p", Type: steps.TypePath}, []paramCase{
		{in: "/opt/it's here", want: "/opt/it's here"},
		{in: "/opt/$(touch CANARY)", want: "/opt/$(touch CANARY)"},
		{in: "lui/lui.ini", want: "lui/lui.ini"},
		{in: "-rf", err: `"-rf" starts with '-', which a command would read as an option`},
		{in: "/opt/a\nrm -rf /", err: "contains a control character (U+000A)"},
		{in: "/opt/a\x00b", err: "contains a control character (U+0000)"},
		{in: "/opt/\x1b[31mred", err: "contains a control character (U+001B)"},
	})
	checkParamCases(t, &steps.Param{ID: "c", Type: steps.TypeCommand}, []paramCase{
		{in: "nginx -t && nginx -s reload", want: "nginx -t && nginx -s reload"},
		{in: "maestro-sync run\ntouch CANARY", err: "a command is one line"},
	})
}
