package steps

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestTemplatedPatterns: a gate's wording may come from a parameter; a parameter's own
// pattern may not (it is checked before any value exists), and a value that is no
// regular expression is refused when given, or reported by the gate that renders it.
func TestTemplatedPatterns(t *testing.T) {
	f := newFixture(t)
	f.write("h1", "logs/app.log", "Backup finished OK\n")
	rb := testRunbook(t, `  - id: s
    title: wording from a parameter
    gates:
      - newest_file: {role: a, path: logs/*.log, contains: ['{{ params.word }}']}
`)
	wantStatus(t, evalGate(t, f.exec(rb, "s", nil, map[string]string{"word": "finished OK"}), 0), Pass)
	r := evalGate(t, f.exec(rb, "s", nil, map[string]string{"word": "completed"}), 0)
	wantStatus(t, r, Fail, "no line matches /completed/")
	r = evalGate(t, f.exec(rb, "s", nil, map[string]string{"word": "(unclosed"}), 0)
	wantStatus(t, r, Error, `gives "(unclosed", not a regular expression`)

	for _, bad := range []string{
		"params:\n  - {id: p, title: P, pattern: '{{ params.q }}'}\n",
		"params:\n  - {id: p, title: P, reject: [{match: '{{ params.q }}', because: no}]}\n",
	} {
		src := strings.Replace(testRunbookText("  - id: s\n    title: s\n    manual: true\n"), "params:\n", bad, 1)
		if _, err := Parse("x.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), "cannot hold {{ }}") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	p := &Param{ID: "ok", Type: TypeRegex}
	if _, err := p.Parse("(?i)backup (completed|finished)"); err != nil {
		t.Error(err)
	}
	if _, err := p.Parse("(unclosed"); err == nil || !strings.Contains(err.Error(), "not a regular expression") {
		t.Errorf("a bad regex parameter: %v", err)
	}
}

// TestLogJudge covers the judge the gate and the preflight share.
func TestLogJudge(t *testing.T) {
	j := &logJudge{want: []*regexp.Regexp{regexp.MustCompile(`(?i)startup complete`)},
		unwanted: []*regexp.Regexp{regexp.MustCompile(`\bERROR\b`), regexp.MustCompile(`table .* crashed`)},
		wantSrc:  []string{"(?i)startup complete"}, unwantedSrc: []string{`\bERROR\b`, "table .* crashed"}}
	tests := []struct {
		name     string
		lines    []string
		problems []string
		found    []int
		bad      []int
	}{
		{"a clean start", []string{"starting", "Startup complete"}, nil, []int{1}, nil},
		{"no start line", []string{"starting"}, []string{"no line matches /(?i)startup complete/"}, []int{-1}, nil},
		{"an error line", []string{"ERROR table x crashed", "Startup complete"},
			[]string{"1 line matches /\\bERROR\\b/", "1 line matches /table .* crashed/"}, []int{1}, []int{0}},
		{"empty", nil, []string{"no line matches /(?i)startup complete/"}, []int{-1}, nil},
	}
	for _, tt := range tests {
		v := j.judge(tt.lines)
		if !slices.Equal(v.problems, tt.problems) || !slices.Equal(v.found, tt.found) || !slices.Equal(v.bad, tt.bad) {
			t.Errorf("%s: %+v", tt.name, v)
		}
	}
}
