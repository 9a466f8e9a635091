// Package yamlpos decodes the YAML that operators write (inventories, runbooks, run
// files) strictly, and reports every problem as file:line:col with what is wrong. It
// wraps github.com/goccy/go-yaml, which keeps a position on every node, and bounds what
// it reads (limits.go): size, nesting, entries and aliases, so no file can take the
// operator's memory or minutes.
package yamlpos

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	yaml "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Pos is a place in a file. Line and Col start at 1; zero means unknown.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// String formats the position as file:line:col, leaving out what is unknown.
func (p Pos) String() string {
	s := p.File
	if p.Line > 0 {
		s += fmt.Sprintf(":%d:%d", p.Line, max(p.Col, 1))
	}
	return s
}

// IsZero reports whether the position is unknown.
func (p Pos) IsZero() bool { return p.Line == 0 }

// Shift returns the position of the byte at offset col (0-based) within the scalar that
// starts at p, for errors inside an expression on one line.
func (p Pos) Shift(line, col int) Pos {
	if line > 1 {
		return Pos{File: p.File, Line: p.Line + line - 1, Col: col + 1}
	}
	return Pos{File: p.File, Line: p.Line, Col: p.Col + col}
}

// Error is one problem in an input file.
type Error struct {
	Pos Pos
	Msg string
}

// Error is "file:line:col: message".
func (e *Error) Error() string {
	if e.Pos.File == "" && e.Pos.Line == 0 {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// Errorf builds an Error at pos.
func Errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// List collects every problem found in one pass, so an author fixes them all at once.
type List []*Error

// Add appends an error at pos.
func (l *List) Add(pos Pos, format string, args ...any) {
	*l = append(*l, Errorf(pos, format, args...))
}

// Err returns the list sorted by position as an error, or nil when empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return l
}

// Error is every problem, one per line.
func (l List) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find the individual errors.
func (l List) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Errors returns the positioned errors err holds, a List's or a single one's, or nil
// when it holds none.
func Errors(err error) []*Error {
	var l List
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return nil
}

// SetFile fills in the file name of every position in err that has none, for errors
// raised below the loader, which knows the name.
func SetFile(err error, file string) error {
	all := Errors(err)
	for _, e := range all {
		if e.Pos.File == "" {
			e.Pos.File = file
		}
	}
	var l List
	switch {
	case errors.As(err, &l):
		return l
	case len(all) == 1:
		return all[0]
	}
	return err
}

// PosOf returns the position of a node. For a mapping or sequence that is the position
// of its first token: the brace or bracket of a flow collection, the first key of a
// block mapping (whose own token is the first key's ":").
func PosOf(n ast.Node) Pos {
	if n == nil {
		return Pos{}
	}
	switch m := n.(type) {
	case *ast.MappingNode:
		if !m.IsFlowStyle && len(m.Values) > 0 {
			return PosOf(m.Values[0])
		}
	case *ast.MappingValueNode:
		if m.Key != nil {
			return PosOf(m.Key)
		}
	}
	tk := n.GetToken()
	if tk == nil {
		return Pos{}
	}
	return Pos{Line: tk.Position.Line, Col: tk.Position.Column}
}

// Decode parses data (within the bounds of Parse) and decodes it strictly into v:
// unknown keys, duplicate keys and values of the wrong type are errors with positions.
func Decode(file string, data []byte, v any) error {
	if strings.TrimSpace(string(data)) == "" {
		return &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "file is empty"}
	}
	f, err := Parse(file, data)
	if err != nil {
		return err
	}
	if len(f.Docs) != 1 {
		return &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: fmt.Sprintf("expected one YAML document, found %d", len(f.Docs))}
	}
	body := f.Docs[0].Body
	if body == nil {
		return &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "file has no content"}
	}
	if body.Type() != ast.MappingType {
		return &Error{Pos: Pos{File: file, Line: PosOf(body).Line, Col: PosOf(body).Col}, Msg: "expected a mapping (key: value lines) at the top level"}
	}
	if e := findTag(body); e != nil {
		return SetFile(e, file)
	}
	expandAliases(body)
	return SetFile(DecodeNode(body, v), file)
}

// findTag refuses YAML tags ("!x", "!!seq"): cutover's files have no use for them, and
// go-yaml panics on some (a tag on a value decoded into a list that is not a list).
func findTag(n ast.Node) *Error {
	var found *Error
	ast.Walk(visitFunc(func(n ast.Node) bool {
		if t, ok := n.(*ast.TagNode); ok && found == nil {
			found = Errorf(PosOf(t), "YAML tags such as %s are not used here: write the value alone (quote it to make it text)", t.Start.Value)
		}
		return found == nil
	}), n)
	return found
}

type visitFunc func(ast.Node) bool

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	if f(n) {
		return f
	}
	return nil
}

// DecodeNode decodes one node strictly into v; custom UnmarshalYAML(ast.Node) methods
// call it for the plain form of their type.
func DecodeNode(n ast.Node, v any) error {
	if e := precheck(n, reflect.TypeOf(v)); e != nil {
		return e
	}
	return convert(yaml.NodeToValue(n, v, yaml.DisallowUnknownField()))
}

var (
	nodeUnmarshaler      = reflect.TypeFor[yaml.NodeUnmarshaler]()
	bytesUnmarshaler     = reflect.TypeFor[yaml.BytesUnmarshaler]()
	interfaceUnmarshaler = reflect.TypeFor[yaml.InterfaceUnmarshaler]()
	textUnmarshaler      = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// precheck returns the first problem, in file order, that go-yaml would handle badly
// when decoding n into a value of type t:
//   - a key t has no field for: go-yaml finds those too, but picks one of several at
//     random, so the same file could give a different error each time it is checked;
//   - an empty item in a list of pointers ("-" with nothing after it), which go-yaml
//     decodes as a nil pointer that the code reading the list does not expect.
func precheck(n ast.Node, t reflect.Type) *Error {
	if t == nil || n == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if decodesItself(t) {
		return nil // and checks its own keys
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := n.(*ast.MappingNode)
		if !ok {
			return nil
		}
		fields := map[string]reflect.Type{}
		structKeys(t, fields)
		for _, kv := range m.Values {
			key := kv.Key.GetToken().Value
			ft, known := fields[key]
			switch {
			case key == "<<":
			case !known:
				names := make([]string, 0, len(fields))
				for k := range fields {
					names = append(names, k)
				}
				return Errorf(PosOf(kv.Key), "unknown key %q%s", key, DidYouMean(key, names))
			default:
				if e := CheckShape(key, kv.Value, ft); e != nil {
					return e
				}
				if e := precheck(kv.Value, ft); e != nil {
					return e
				}
			}
		}
	case reflect.Map:
		if m, ok := n.(*ast.MappingNode); ok {
			for _, kv := range m.Values {
				if e := precheck(kv.Value, t.Elem()); e != nil {
					return e
				}
			}
		}
	case reflect.Slice, reflect.Array:
		if sq, ok := n.(*ast.SequenceNode); ok {
			for i, x := range sq.Values {
				if x == nil || x.Type() == ast.NullType {
					if t.Elem().Kind() == reflect.Pointer {
						return Errorf(itemPos(sq, i, x), "empty list item")
					}
					continue
				}
				if e := precheck(x, t.Elem()); e != nil {
					return e
				}
			}
		}
	}
	return nil
}

// decodesItself reports whether values of type t decode themselves (an UnmarshalYAML or
// UnmarshalText of their own).
func decodesItself(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	for _, u := range []reflect.Type{nodeUnmarshaler, bytesUnmarshaler, interfaceUnmarshaler, textUnmarshaler} {
		if pt.Implements(u) {
			return true
		}
	}
	return false
}

// itemPos is where list item i is: its "-" in a block list, else its own position, or
// the list's when it has none.
func itemPos(sq *ast.SequenceNode, i int, x ast.Node) Pos {
	if i < len(sq.Entries) && sq.Entries[i] != nil && sq.Entries[i].Start != nil {
		tk := sq.Entries[i].Start
		return Pos{Line: tk.Position.Line, Col: tk.Position.Column}
	}
	if x != nil {
		if p := PosOf(x); !p.IsZero() {
			return p
		}
	}
	return PosOf(sq)
}

// structKeys collects the keys go-yaml accepts for struct type t: the yaml tag, else
// the json tag, else the lower-case field name; inline fields add their own keys.
func structKeys(t reflect.Type, into map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.PkgPath != "" && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "" {
			tag = f.Tag.Get("json")
		}
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if slices.Contains(strings.Split(opts, ","), "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				structKeys(ft, into)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		into[name] = f.Type
	}
}

// convert turns go-yaml's errors into Errors with a plain-language message.
func convert(err error) error {
	if err == nil {
		return nil
	}
	var mine *Error
	var list List
	if errors.As(err, &mine) || errors.As(err, &list) {
		return err
	}
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return err
	}
	pos := Pos{}
	if tk := ye.GetToken(); tk != nil {
		pos = Pos{Line: tk.Position.Line, Col: tk.Position.Column}
	}
	msg := ye.GetMessage()
	var te *yaml.TypeError
	var ue *yaml.UnknownFieldError
	var nt *yaml.UnexpectedNodeTypeError
	switch {
	case errors.As(err, &te):
		msg = fmt.Sprintf("expected %s, found %s", describe(te.DstType), describeSrc(te.SrcType))
	case errors.As(err, &ue):
		msg = strings.Replace(ue.Message, "unknown field", "unknown key", 1)
	case errors.As(err, &nt):
		msg = fmt.Sprintf("expected %s, found %s", nodeKind(nt.Expected), nodeKind(nt.Actual))
	}
	return &Error{Pos: pos, Msg: msg}
}

func describe(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if t.String() == "time.Duration" {
			return "a duration such as 30s or 5m"
		}
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

func describeSrc(t reflect.Type) string {
	if t == nil {
		return "nothing"
	}
	switch t.Kind() {
	case reflect.Map:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	case reflect.String:
		return "text"
	}
	return describe(t)
}

func nodeKind(t ast.NodeType) string {
	switch t {
	case ast.MappingType, ast.MappingValueType:
		return "a mapping"
	case ast.SequenceType:
		return "a list"
	case ast.NullType:
		return "nothing"
	case ast.StringType, ast.LiteralType:
		return "text"
	}
	return strings.ToLower(t.String())
}
