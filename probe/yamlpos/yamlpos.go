// Package yamlpos decodes the YAML that operators write (inventories, runbooks, run
// files) strictly, and reports every problem as file:line:col with what is wrong. It
// wraps github.com/goccy/go-yaml, which keeps a position on every node.
package yamlpos

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	yaml "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
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

// SetFile fills in the file name of every position in err that has none, for errors
// raised below the loader, which knows the name.
func SetFile(err error, file string) error {
	var l List
	if errors.As(err, &l) {
		for _, e := range l {
			if e.Pos.File == "" {
				e.Pos.File = file
			}
		}
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Pos.File == "" {
			e.Pos.File = file
		}
		return e
	}
	return err
}

// PosOf returns the position of a node. For a mapping or sequence that is the position
// of its first token.
func PosOf(n ast.Node) Pos {
	if n == nil {
		return Pos{}
	}
	tk := n.GetToken()
	if tk == nil {
		return Pos{}
	}
	return Pos{Line: tk.Position.Line, Col: tk.Position.Column}
}

// Decode parses data and decodes it strictly into v: unknown keys, duplicate keys and
// values of the wrong type are errors with positions.
func Decode(file string, data []byte, v any) error {
	if strings.TrimSpace(string(data)) == "" {
		return &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "file is empty"}
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return SetFile(convert(err), file)
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
	return SetFile(DecodeNode(body, v), file)
}

// DecodeNode decodes one node strictly into v; custom UnmarshalYAML(ast.Node) methods
// call it for the plain form of their type.
func DecodeNode(n ast.Node, v any) error {
	return convert(yaml.NodeToValue(n, v, yaml.DisallowUnknownField()))
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
