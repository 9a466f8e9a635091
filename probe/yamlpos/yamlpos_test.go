package yamlpos_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/ast"

	"github.com/cutover/cutover/probe/yamlpos"
)

type server struct {
	Name string `yaml:"name"`
}

type settings struct {
	Port    int               `yaml:"port"`
	Enabled bool              `yaml:"enabled"`
	Ratio   float64           `yaml:"ratio"`
	Names   []string          `yaml:"names"`
	Server  server            `yaml:"server"`
	Text    string            `yaml:"text"`
	Vars    map[string]string `yaml:"vars"`
	Where   *located          `yaml:"where"`
	Items   []*located        `yaml:"items"`
}

// located records the position PosOf gives for its node.
type located struct {
	At   yamlpos.Pos
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
}

func (l *located) UnmarshalYAML(n ast.Node) error {
	type plain located
	l.At = yamlpos.PosOf(n)
	return yamlpos.DecodeNode(n, (*plain)(l))
}

// decodeErr decodes src and returns its single *yamlpos.Error, failing when there is none.
func decodeErr(t *testing.T, src string) *yamlpos.Error {
	t.Helper()
	var s settings
	err := yamlpos.Decode("conf.yaml", []byte(src), &s)
	if err == nil {
		t.Fatalf("Decode(%q) succeeded, want an error", src)
	}
	var e *yamlpos.Error
	if !errors.As(err, &e) {
		t.Fatalf("Decode(%q) = %T %v, want a *yamlpos.Error", src, err, err)
	}
	return e
}

func TestDecodeReportsTypeErrorsInPlainWords(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantPos string
		wantMsg string
	}{
		{"text where a whole number belongs", "port: abc\n", "conf.yaml:1:7", "expected a whole number, found text"},
		{"text where true or false belongs", "enabled: maybe\n", "conf.yaml:1:10", "expected true or false, found text"},
		{"text where a number belongs", "ratio: lots\n", "conf.yaml:1:8", "expected a number, found text"},
		{"a mapping where a list belongs", "names: {a: b}\n", "conf.yaml:1:8", "names: expected a list of text values, found a mapping"},
		{"text where a list belongs", "names: abc\n", "conf.yaml:1:8", "names: expected a list of text values, found text"},
		{"a list where a mapping belongs", "server: [1]\n", "conf.yaml:1:9", "server: expected a mapping, found a list"},
		{"text where a mapping belongs", "server: abc\n", "conf.yaml:1:9", "server: expected a mapping, found text"},
		{"a mapping where text belongs", "text: {a: 1}\n", "conf.yaml:1:7", "expected text, found a mapping"},
		{"a list where text belongs", "text: [a]\n", "conf.yaml:1:7", "expected text, found a list"},
		{"a list where a map belongs", "vars: [a]\n", "conf.yaml:1:7", "vars: expected a mapping, found a list"},
		{"a type error on a later line", "text: ok\nport: 22\nserver:\n  name: [x]\n", "conf.yaml:4:9", "expected text, found a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := decodeErr(t, tt.src)
			if got := e.Pos.String(); got != tt.wantPos {
				t.Errorf("position = %s, want %s (error: %v)", got, tt.wantPos, e)
			}
			if e.Msg != tt.wantMsg {
				t.Errorf("message = %q, want %q", e.Msg, tt.wantMsg)
			}
			if !strings.HasPrefix(e.Error(), tt.wantPos+": ") {
				t.Errorf("Error() = %q, want it to start with %q", e.Error(), tt.wantPos+": ")
			}
		})
	}
}

func TestDecodeReportsStructuralProblems(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantPos string
		wantMsg string
	}{
		{"an unknown top-level key says unknown key", "port: 1\nbogus: 2\n", "conf.yaml:2:1", `unknown key "bogus"`},
		{"an unknown nested key says unknown key", "server:\n  name: x\n  nmae: y\n", "conf.yaml:3:3", `unknown key "nmae"`},
		{"a duplicate key is refused", "port: 1\nport: 2\n", "conf.yaml:2:1", `"port" already defined`},
		{"an unclosed list is a syntax error with its place", "port: 1\nnames: [a\n", "conf.yaml:2:8", "']' not found"},
		{"an empty file says so", "", "conf.yaml:1:1", "file is empty"},
		{"a blank file says so", "  \n\n", "conf.yaml:1:1", "file is empty"},
		{"a file of comments has no content", "# nothing here\n", "conf.yaml:1:1", "file has no content"},
		{"two documents are refused", "port: 1\n---\nport: 2\n", "conf.yaml:1:1", "expected one YAML document, found 2"},
		{"a list at the top level is refused", "- 1\n", "conf.yaml:1:1", "expected a mapping (key: value lines) at the top level"},
		{"a tag without a value is refused", "port: 1\nnames: !x\n", "conf.yaml:2:8", "YAML tags such as !x are not used here"},
		{"a standard tag is refused", "names: !!seq\n", "conf.yaml:1:8", "YAML tags such as !!seq are not used here"},
		{"an empty list item is refused", "items:\n  - name: a\n  -\n  - name: b\n", "conf.yaml:3:3", "empty list item"},
		{"a null list item is refused", "items: [~]\n", "conf.yaml:1:9", "empty list item"},
		{"a tag on a scalar in a list is refused", "names: [a, !x b]\n", "conf.yaml:1:12", "YAML tags such as !x are not used here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := decodeErr(t, tt.src)
			if got := e.Pos.String(); got != tt.wantPos {
				t.Errorf("position = %s, want %s (error: %v)", got, tt.wantPos, e)
			}
			if !strings.Contains(e.Msg, tt.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", e.Msg, tt.wantMsg)
			}
		})
	}
}

func TestSeveralUnknownKeysReportTheFirstInFileOrder(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantPos string
		wantMsg string
	}{
		{"at the top level", "port: 1\nzeta: 1\nalpha: 2\nmid: 3\n", "conf.yaml:2:1", `unknown key "zeta"`},
		{"in a nested mapping", "server:\n  zeta: 1\n  name: x\n  alpha: 2\nbogus: 3\n", "conf.yaml:2:3", `unknown key "zeta"`},
		{"in a list item", "items:\n  - name: a\n  - zeta: 1\n    alpha: 2\n", "conf.yaml:3:5", `unknown key "zeta"`},
		{"after a type error", "port: x\nzeta: 1\n", "conf.yaml:2:1", `unknown key "zeta"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 30 { // go-yaml itself picks one of several unknown keys at random
				e := decodeErr(t, tt.src)
				if e.Pos.String() != tt.wantPos || e.Msg != tt.wantMsg {
					t.Fatalf("got %v, want %s: %s", e, tt.wantPos, tt.wantMsg)
				}
			}
		})
	}
}

func TestUntaggedAndIgnoredFieldsFollowGoYAMLRules(t *testing.T) {
	type withJSON struct {
		Start  string `json:"start"`
		Hidden string `yaml:"-"`
		Plain  string
	}
	var v withJSON
	if err := yamlpos.Decode("f.yaml", []byte("start: a\nplain: b\n"), &v); err != nil || v.Start != "a" || v.Plain != "b" {
		t.Errorf("Decode = %v, %+v; want json tags and lower-case names accepted", err, v)
	}
	err := yamlpos.Decode("f.yaml", []byte("start: a\nhidden: b\n"), &v)
	if err == nil || !strings.Contains(err.Error(), `f.yaml:2:1: unknown key "hidden"`) {
		t.Errorf("a field tagged yaml:\"-\" must be an unknown key, got %v", err)
	}
}

func TestDecodeAcceptsValidInput(t *testing.T) {
	src := "port: 8080\nenabled: true\nratio: 0.5\nnames: [a, b]\nserver: {name: hub}\ntext: hello\nvars: {site: east}\n"
	var s settings
	if err := yamlpos.Decode("conf.yaml", []byte(src), &s); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if s.Port != 8080 || !s.Enabled || s.Ratio != 0.5 || strings.Join(s.Names, ",") != "a,b" ||
		s.Server.Name != "hub" || s.Text != "hello" || s.Vars["site"] != "east" {
		t.Errorf("decoded %+v", s)
	}
}

func TestPosOfPointsAtTheStartOfANode(t *testing.T) {
	src := strings.Join([]string{
		"where:",            // 1
		"  name: first",     // 2
		"  kind: block",     // 3
		"items:",            // 4
		"  - name: second",  // 5
		"    kind: item",    // 6
		"  - {name: third}", // 7
		"",
	}, "\n")
	var s settings
	if err := yamlpos.Decode("conf.yaml", []byte(src), &s); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	tests := []struct {
		name string
		got  yamlpos.Pos
		want yamlpos.Pos
	}{
		{"a block mapping starts at its first key", s.Where.At, yamlpos.Pos{Line: 2, Col: 3}},
		{"a mapping in a list item starts at its first key", s.Items[0].At, yamlpos.Pos{Line: 5, Col: 5}},
		{"a flow mapping starts at its brace", s.Items[1].At, yamlpos.Pos{Line: 7, Col: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("PosOf = %d:%d, want %d:%d", tt.got.Line, tt.got.Col, tt.want.Line, tt.want.Col)
			}
		})
	}
	if got := yamlpos.PosOf(nil); !got.IsZero() {
		t.Errorf("PosOf(nil) = %+v, want the zero position", got)
	}
}

func TestPosString(t *testing.T) {
	tests := []struct {
		name string
		pos  yamlpos.Pos
		want string
	}{
		{"file, line and column", yamlpos.Pos{File: "a.yaml", Line: 3, Col: 7}, "a.yaml:3:7"},
		{"an unknown column reads as column 1", yamlpos.Pos{File: "a.yaml", Line: 3}, "a.yaml:3:1"},
		{"an unknown line leaves out line and column", yamlpos.Pos{File: "a.yaml"}, "a.yaml"},
		{"no file gives only line and column", yamlpos.Pos{Line: 2, Col: 4}, ":2:4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.pos.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPosShift(t *testing.T) {
	start := yamlpos.Pos{File: "r.yaml", Line: 10, Col: 9}
	tests := []struct {
		name      string
		line, col int
		want      yamlpos.Pos
	}{
		{"the first character stays in place", 1, 0, yamlpos.Pos{File: "r.yaml", Line: 10, Col: 9}},
		{"a later character on the first line moves right", 1, 5, yamlpos.Pos{File: "r.yaml", Line: 10, Col: 14}},
		{"a character on a later line counts from column 1", 3, 2, yamlpos.Pos{File: "r.yaml", Line: 12, Col: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := start.Shift(tt.line, tt.col); got != tt.want {
				t.Errorf("Shift(%d, %d) = %+v, want %+v", tt.line, tt.col, got, tt.want)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	if got := yamlpos.Errorf(yamlpos.Pos{}, "no place %d", 1).Error(); got != "no place 1" {
		t.Errorf("an error without a place = %q, want only the message", got)
	}
	if got := yamlpos.Errorf(yamlpos.Pos{File: "f", Line: 2, Col: 3}, "bad").Error(); got != "f:2:3: bad" {
		t.Errorf("an error with a place = %q, want f:2:3: bad", got)
	}
}

func TestListSortsByPositionAndUnwraps(t *testing.T) {
	var l yamlpos.List
	if l.Err() != nil {
		t.Fatal("an empty list must give a nil error")
	}
	l.Add(yamlpos.Pos{File: "b.yaml", Line: 1, Col: 1}, "fourth")
	l.Add(yamlpos.Pos{File: "a.yaml", Line: 9, Col: 2}, "third")
	l.Add(yamlpos.Pos{File: "a.yaml", Line: 2, Col: 8}, "second")
	l.Add(yamlpos.Pos{File: "a.yaml", Line: 2, Col: 1}, "first")
	err := l.Err()
	want := "a.yaml:2:1: first\na.yaml:2:8: second\na.yaml:9:2: third\nb.yaml:1:1: fourth"
	if err == nil || err.Error() != want {
		t.Fatalf("Err() = %v, want\n%s", err, want)
	}
	var one *yamlpos.Error
	if !errors.As(err, &one) || one.Msg != "first" {
		t.Errorf("errors.As finds %v, want the first error", one)
	}
}

func TestSetFileFillsOnlyMissingNames(t *testing.T) {
	var l yamlpos.List
	l.Add(yamlpos.Pos{Line: 1, Col: 1}, "no file")
	l.Add(yamlpos.Pos{File: "other.yaml", Line: 2, Col: 1}, "own file")
	err := yamlpos.SetFile(l, "main.yaml")
	want := "main.yaml:1:1: no file\nother.yaml:2:1: own file"
	if err.Error() != want {
		t.Errorf("SetFile(list) = %q, want %q", err, want)
	}
	single := yamlpos.SetFile(yamlpos.Errorf(yamlpos.Pos{Line: 4, Col: 2}, "x"), "main.yaml")
	if single.Error() != "main.yaml:4:2: x" {
		t.Errorf("SetFile(error) = %q", single)
	}
	plain := errors.New("plain")
	if yamlpos.SetFile(plain, "main.yaml") != plain {
		t.Error("SetFile must return other errors unchanged")
	}
}

// TestErrors: a List, a single error (wrapped or not) and an error without a position.
func TestErrors(t *testing.T) {
	a, b := yamlpos.Errorf(yamlpos.Pos{File: "f", Line: 1, Col: 2}, "a"), yamlpos.Errorf(yamlpos.Pos{Line: 3, Col: 4}, "b")
	if got := yamlpos.Errors(yamlpos.List{a, b}); len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("Errors(List) = %v", got)
	}
	if got := yamlpos.Errors(fmt.Errorf("loading: %w", b)); len(got) != 1 || got[0] != b {
		t.Errorf("Errors(wrapped) = %v", got)
	}
	if got := yamlpos.Errors(errors.New("plain")); got != nil {
		t.Errorf("Errors(plain) = %v, want nil", got)
	}
	if err := yamlpos.SetFile(fmt.Errorf("loading: %w", b), "g"); err != b || b.Pos.File != "g" || a.Pos.File != "f" {
		t.Errorf("SetFile = %v (%s)", err, b.Pos)
	}
}
