package steps

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"

	"github.com/cutover/cutover/probe"
)

// Values never become code. A template in a field that becomes shell command text (a
// run action's command, a command check's run, a same check's command, a write
// action's test) writes each {{ expression }} as data for the shell that runs it:
//
//   - POSIX sh: one single-quoted word ('it'\''s'); a list is one word per element
//     ('a' 'b'); an empty list is an error, since it would silently drop a word.
//   - PowerShell: one literal ('it''s', with ' and U+2018-U+201B doubled, which
//     PowerShell also takes for quotes); a list is an array (@('a','b'), @() when empty);
//     true and false are $true and $false.
//
// Numbers are written as they are (they are one word in both shells). A value with a
// NUL byte is refused: no command argument can carry one. A mapping is refused.
//
// Two forms insert text as code, unquoted, and `cutover lint` lists every use:
// {{ raw(expression) }}, and a parameter of type command named alone
// ({{ params.sync_now }}), whose value is by its declaration a command line the operator
// gives. Everywhere else (paths read over SFTP, INI values, file content, operator text)
// values are written as they are: no shell sees them.

// quoting says how a template writes the values of its {{ }} parts into its text.
type quoting int

const (
	asData quoting = iota // paths, INI values, file content, operator text: as they are
	forSh                 // POSIX sh command text
	forPS                 // PowerShell command text
)

func (q quoting) String() string {
	switch q {
	case forSh:
		return "POSIX sh"
	case forPS:
		return "PowerShell"
	}
	return "data"
}

// rawFunc is the name of the function that inserts a value unquoted into command text.
const rawFunc = "raw"

// plainNumber is how fmt prints the numbers expressions produce; such text is one word,
// and a number, in both shells.
var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?$`)

// quoteValue writes v, the value of {{ src }}, for q.
func quoteValue(v any, q quoting, src string) (string, error) {
	if q == asData {
		return format(v), nil
	}
	word := func(s string) (string, error) {
		if strings.ContainsRune(s, 0) {
			return "", fmt.Errorf("{{ %s }} has a NUL byte, which no command argument can carry: refused", src)
		}
		if q == forPS {
			return probe.PSQuote(s), nil
		}
		return probe.ShellQuote(s), nil
	}
	switch x := v.(type) {
	case nil:
		return word("")
	case string:
		return word(x)
	case bool:
		if q == forPS {
			return "$" + strconv.FormatBool(x), nil
		}
		return strconv.FormatBool(x), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if s := fmt.Sprint(v); plainNumber.MatchString(s) {
			return s, nil
		}
		return word(fmt.Sprint(v))
	case reflect.Slice, reflect.Array:
		words := make([]string, rv.Len())
		for i := range words {
			e := rv.Index(i).Interface()
			if k := reflect.ValueOf(e).Kind(); k == reflect.Slice || k == reflect.Map || k == reflect.Struct {
				return "", fmt.Errorf("{{ %s }} is a list holding a %s: only text, numbers and true/false can be command arguments", src, k)
			}
			w, err := quoteValue(e, q, src)
			if err != nil {
				return "", err
			}
			words[i] = w
		}
		if q == forPS {
			return "@(" + strings.Join(words, ",") + ")", nil
		}
		if len(words) == 0 {
			return "", fmt.Errorf("{{ %s }} is an empty list: in a command it would leave out a word (guard the step or gate with when:)", src)
		}
		return strings.Join(words, " "), nil
	}
	return "", fmt.Errorf("{{ %s }} is a %s, which cannot be a command argument (give text, a number, true/false or a list of them)", src, rv.Kind())
}

// rawPart says whether the expression tree of a {{ }} part inserts code: raw(x), or a
// parameter of type command named alone; why is what the lint warning says.
func (s *schema) rawPart(tree ast.Node) (why string, ok bool) {
	if call, isCall := tree.(*ast.CallNode); isCall && isRawCall(call) {
		return "raw(...) inserts its value unquoted, as shell code", true
	}
	if m, isMember := tree.(*ast.MemberNode); isMember {
		id, isID := m.Node.(*ast.IdentifierNode)
		prop, isStr := m.Property.(*ast.StringNode)
		if isID && isStr && id.Value == "params" {
			if i, known := s.paramIndex[prop.Value]; known && s.params[i].Type == TypeCommand {
				return fmt.Sprintf("params.%s is of type command: its value is inserted unquoted, as shell code", prop.Value), true
			}
		}
	}
	return "", false
}

func isRawCall(call *ast.CallNode) bool {
	id, ok := call.Callee.(*ast.IdentifierNode)
	return ok && id.Value == rawFunc
}
