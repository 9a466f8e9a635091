package yamlpos

import (
	"reflect"
	"sort"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// Describer is a type that says what a YAML value of it looks like, for messages about
// a value of the wrong shape: a list of Roles is "roles, each with id, title and
// requires", so an author who wrote a mapping reads what belongs there.
type Describer interface {
	YAMLDescription() string
}

var describer = reflect.TypeFor[Describer]()

// Suggest returns the known word nearest to word, or "" when none is near enough to be
// a likely typo (an edit distance of at most a third of the word, and at most 3).
func Suggest(word string, known []string) string {
	best, bestD := "", 0
	limit := min(3, max(1, len(word)/3))
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	for _, k := range sorted {
		d := Distance(word, k)
		if d <= limit && (best == "" || d < bestD) {
			best, bestD = k, d
		}
	}
	return best
}

// DidYouMean is " (did you mean X?)" for the nearest known word, or "".
func DidYouMean(word string, known []string) string {
	if s := Suggest(word, known); s != "" {
		return " (did you mean " + s + "?)"
	}
	return ""
}

// Distance is the edit distance of a and b, ignoring case: the Levenshtein distance
// with a swap of two neighbouring letters counted as one edit. Misspelt runbook keys
// and command-line flags are both matched with it.
func Distance(a, b string) int {
	ra, rb := []rune(strings.ToLower(a)), []rune(strings.ToLower(b))
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// CheckShape reports a value of the wrong kind for key, whose values are of type t: a mapping where a
// list belongs, a list where a mapping belongs, text where either does. The message
// names the key and, where the type says, what the value should hold.
func CheckShape(key string, n ast.Node, t reflect.Type) *Error {
	if a, ok := n.(*ast.AnchorNode); ok {
		n = a.Value // &name marks the value; its shape is the value's
	}
	if n == nil || n.Type() == ast.NullType || n.Type() == ast.AliasType {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if decodesItself(t) {
		return nil // and may accept several shapes
	}
	found := nodeKind(n.Type())
	if n.Type() == ast.MappingValueType {
		found = "a mapping"
	}
	switch t.Kind() {
	case reflect.Slice:
		if n.Type() == ast.SequenceType {
			return nil
		}
		return Errorf(PosOf(n), "%s: expected %s, found %s", key, listOf(t.Elem()), found)
	case reflect.Struct, reflect.Map:
		if n.Type() == ast.MappingType || n.Type() == ast.MappingValueType {
			return nil
		}
		what := "a mapping"
		if t.Implements(describer) || reflect.PointerTo(t).Implements(describer) {
			what = "a mapping: " + reflect.New(t).Interface().(Describer).YAMLDescription()
		}
		return Errorf(PosOf(n), "%s: expected %s, found %s", key, what, found)
	}
	return nil
}

// listOf says what a list of elements of type t holds.
func listOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(describer) || reflect.PointerTo(t).Implements(describer) {
		return "a list of " + reflect.New(t).Interface().(Describer).YAMLDescription()
	}
	if t.Kind() == reflect.String {
		return "a list of text values"
	}
	return "a list"
}
