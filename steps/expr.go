package steps

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	yast "github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/yamlpos"
)

// RoleEnv is what expressions and templates see of a role: the bound host and its
// facts from the probe, under the names in the expr tags (roles.new.hostname).
type RoleEnv struct {
	Host        string                       `expr:"host"`
	Address     string                       `expr:"address"`
	Hostname    string                       `expr:"hostname"`
	OS          string                       `expr:"os"`
	OSName      string                       `expr:"os_name"`
	MachineID   string                       `expr:"machine_id"`
	TimeZone    string                       `expr:"timezone"`
	Addresses   []string                     `expr:"addresses"`
	HostKey     string                       `expr:"host_key"`
	Reachable   bool                         `expr:"reachable"`
	Components  []string                     `expr:"components"`
	Settings    map[string]map[string]string `expr:"settings"`
	Services    map[string]string            `expr:"services"`
	ClockOffset int64                        `expr:"clock_offset_ms"`
	InstallDir  string                       `expr:"install_dir"`
	Shell       string                       `expr:"shell"`
	Vars        map[string]string            `expr:"vars"`
}

// roleFields are the names a runbook may use after roles.NAME.
var roleFields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeOf(RoleEnv{})
	for i := range t.NumField() {
		m[t.Field(i).Tag.Get("expr")] = true
	}
	return m
}()

// NewRoleEnv combines an inventory host with its facts (facts may be nil).
func NewRoleEnv(h *probe.Host, f *probe.Facts) RoleEnv {
	r := RoleEnv{Host: h.Name, Address: h.Address, InstallDir: h.InstallDir, Shell: h.Shell, Vars: h.Vars}
	if f != nil {
		r.Hostname, r.OS, r.OSName = f.Hostname, f.OS, f.OSName
		r.MachineID, r.TimeZone, r.Reachable = f.MachineID, f.TimeZone, f.Reachable
		r.Addresses, r.HostKey = f.Addresses, f.HostKey
		r.Components, r.Settings, r.Services = f.Components, f.Settings, f.Services
		r.ClockOffset = f.ClockOffset.Milliseconds()
	}
	if r.Hostname == "" {
		// A host that did not answer (a failed primary) cannot tell its name: the
		// inventory's vars.hostname, else the address, stands in.
		r.Hostname = h.Vars["hostname"]
		if r.Hostname == "" {
			r.Hostname = h.Address
		}
	}
	if r.Components == nil {
		r.Components = []string{}
	}
	if len(r.Addresses) == 0 {
		// Likewise its addresses: the inventory's vars.addresses (comma or space
		// separated), so a DNS gate can still tell that a name left the failed host.
		r.Addresses = strings.FieldsFunc(h.Vars["addresses"], func(c rune) bool { return c == ',' || c == ' ' })
	}
	return r
}

// schema is the typed shape of the expression environment of one runbook: its
// parameters and roles become struct fields, so expr-lang type-checks every condition
// and template when the runbook is loaded, not when the step runs at 3 a.m.
type schema struct {
	params     []*Param
	roles      []string
	paramsT    reflect.Type
	rolesT     reflect.Type
	envT       reflect.Type // params, roles, step
	withRoleT  reflect.Type // the same plus "role", for role requirements
	paramIndex map[string]int
	roleIndex  map[string]int
}

// StepEnv is what expressions see of the step being run.
type StepEnv struct {
	ID string `expr:"id"`
	// Start is the step's start time, RFC 3339, on the operator's clock.
	Start string `expr:"start"`
}

func newSchema(params []*Param, roles []string) *schema {
	s := &schema{params: params, roles: roles, paramIndex: map[string]int{}, roleIndex: map[string]int{}}
	var pf []reflect.StructField
	for i, p := range params {
		s.paramIndex[p.ID] = i
		pf = append(pf, reflect.StructField{Name: "P" + strconv.Itoa(i), Type: p.Type.goType(), Tag: reflect.StructTag(`expr:"` + p.ID + `"`)})
	}
	s.paramsT = reflect.StructOf(pf)
	var rf []reflect.StructField
	for i, r := range roles {
		s.roleIndex[r] = i
		rf = append(rf, reflect.StructField{Name: "R" + strconv.Itoa(i), Type: reflect.TypeOf(RoleEnv{}), Tag: reflect.StructTag(`expr:"` + r + `"`)})
	}
	s.rolesT = reflect.StructOf(rf)
	base := []reflect.StructField{
		{Name: "Params", Type: s.paramsT, Tag: `expr:"params"`},
		{Name: "Roles", Type: s.rolesT, Tag: `expr:"roles"`},
		{Name: "Step", Type: reflect.TypeOf(StepEnv{}), Tag: `expr:"step"`},
	}
	s.envT = reflect.StructOf(base)
	s.withRoleT = reflect.StructOf(append(base, reflect.StructField{Name: "Role", Type: reflect.TypeOf(RoleEnv{}), Tag: `expr:"role"`}))
	return s
}

// Values are the inputs of a run that expressions read.
type Values struct {
	Params map[string]any
	Roles  map[string]RoleEnv
	Step   StepEnv
}

// value builds the typed environment for v; role names the role of a requirement ("" otherwise).
func (s *schema) value(v *Values, role string) any {
	t := s.envT
	if role != "" {
		t = s.withRoleT
	}
	env := reflect.New(t).Elem()
	pv := env.Field(0)
	for i, p := range s.params {
		if x, ok := v.Params[p.ID]; ok && x != nil {
			rv := reflect.ValueOf(x)
			if rv.Type().ConvertibleTo(pv.Field(i).Type()) {
				pv.Field(i).Set(rv.Convert(pv.Field(i).Type()))
			}
		}
	}
	rv := env.Field(1)
	for i, r := range s.roles {
		if re, ok := v.Roles[r]; ok {
			rv.Field(i).Set(reflect.ValueOf(re))
		}
	}
	env.Field(2).Set(reflect.ValueOf(v.Step))
	if role != "" {
		env.Field(3).Set(reflect.ValueOf(v.Roles[role]))
	}
	return env.Interface()
}

// Expr is a condition written in the runbook, compiled once with expr-lang.
type Expr struct {
	Src  string
	Pos  yamlpos.Pos
	prog *vm.Program
	role bool // compiled with "role" in scope
	// indent is the indentation of the later lines of a block scalar (|), for positions.
	indent int
}

// UnmarshalYAML keeps the source and its position.
func (e *Expr) UnmarshalYAML(n yast.Node) error {
	e.Pos, e.indent = scalarStart(n)
	return yamlpos.DecodeNode(n, &e.Src)
}

// textPos is where a scalar's text is in the file: the position of its first character,
// and the indentation of its later lines (block scalars; 0 otherwise).
type textPos struct {
	start  yamlpos.Pos
	indent int
}

// at returns the file position of the character at line (1-based) and col (0-based,
// in runes) of the text.
func (p textPos) at(line, col int) yamlpos.Pos {
	if line > 1 {
		return yamlpos.Pos{File: p.start.File, Line: p.start.Line + line - 1, Col: p.indent + col + 1}
	}
	return yamlpos.Pos{File: p.start.File, Line: p.start.Line, Col: p.start.Col + col}
}

// scalarStart returns where the text of a scalar starts, so that an error inside it
// points at the right character: after the quote of a quoted scalar, and on the line
// after the | or > of a block scalar, past its indentation (which it also returns).
func scalarStart(n yast.Node) (yamlpos.Pos, int) {
	pos := yamlpos.PosOf(n)
	switch v := n.(type) {
	case *yast.LiteralNode:
		indent := blockIndent(v)
		return yamlpos.Pos{Line: pos.Line + 1, Col: indent + 1}, indent
	case *yast.StringNode:
		if v.Token != nil && (v.Token.Type == token.DoubleQuoteType || v.Token.Type == token.SingleQuoteType) {
			pos.Col++
		}
	}
	return pos, 0
}

// blockIndent is how many columns a block scalar's lines are indented in the file: the
// raw text of its first non-blank line has that many more leading spaces than its value.
func blockIndent(n *yast.LiteralNode) int {
	if n.Value == nil || n.Value.Token == nil {
		return 0
	}
	origin := strings.Split(n.Value.Token.Origin, "\n")
	value := strings.Split(n.Value.Value, "\n")
	for i := range min(len(origin), len(value)) {
		if strings.TrimSpace(value[i]) == "" {
			continue
		}
		lead := func(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
		return max(lead(origin[i])-lead(value[i]), 0)
	}
	return 0
}

// compile type-checks the expression; asBool demands a true/false result.
func (s *schema) compile(src string, pos textPos, withRole, asBool bool) (*vm.Program, *yamlpos.Error) {
	prog, _, err := s.compileIn(src, pos, withRole, asBool, false)
	return prog, err
}

// compileIn is compile for an expression that may be raw(...) as a whole when inCommand
// (the {{ }} of command text); it also returns the parsed tree.
func (s *schema) compileIn(src string, pos textPos, withRole, asBool, inCommand bool) (*vm.Program, *parser.Tree, *yamlpos.Error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil, yamlpos.Errorf(pos.start, "empty expression")
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, nil, exprError(err, src, pos)
	}
	if e := s.checkNames(tree, src, pos, withRole, inCommand); e != nil {
		return nil, nil, e
	}
	opts := []expr.Option{expr.Env(reflect.New(s.envT).Elem().Interface()), rawOption}
	if withRole {
		opts[0] = expr.Env(reflect.New(s.withRoleT).Elem().Interface())
	}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, nil, exprError(err, src, pos)
	}
	return prog, tree, nil
}

// rawOption declares raw(x), which returns x: what makes it raw is where it stands (the
// whole of a {{ }} in command text), which checkNames enforces.
var rawOption = expr.Function(rawFunc, func(p ...any) (any, error) { return p[0], nil }, new(func(any) any))

// checkNames reports references to undeclared parameters, roles and role fields in
// plain words before expr-lang reports them in terms of generated struct types.
func (s *schema) checkNames(tree *parser.Tree, src string, pos textPos, withRole, inCommand bool) *yamlpos.Error {
	v := &nameVisitor{s: s, withRole: withRole, root: tree.Node, inCommand: inCommand}
	ast.Walk(&tree.Node, v)
	if v.err == "" {
		return nil
	}
	line, col := lineCol(src, v.at)
	return yamlpos.Errorf(pos.at(line, col), "%s", v.err)
}

type nameVisitor struct {
	s         *schema
	withRole  bool
	root      ast.Node
	inCommand bool // raw(...) may be the whole expression
	err       string
	at        int
}

func (v *nameVisitor) Visit(n *ast.Node) {
	if v.err != "" {
		return
	}
	switch node := (*n).(type) {
	case *ast.CallNode:
		if isRawCall(node) {
			switch {
			case !v.inCommand:
				v.fail(node, "raw(...) is only for command text (run commands, command checks), where it leaves a value unquoted")
			case node != v.root:
				v.fail(node, "raw(...) must be the whole of its {{ }}")
			case len(node.Arguments) != 1:
				v.fail(node, "raw(...) takes one value")
			}
		}
	case *ast.IdentifierNode:
		switch node.Value {
		case "params", "roles", "step":
		case "role":
			if !v.withRole {
				v.fail(node, "role is only defined in a role's requirements; use roles.NAME here")
			}
		}
	case *ast.MemberNode:
		id, ok := node.Node.(*ast.IdentifierNode)
		prop, isStr := node.Property.(*ast.StringNode)
		if ok && isStr {
			switch id.Value {
			case "params":
				if _, ok := v.s.paramIndex[prop.Value]; !ok {
					v.fail(node.Property, fmt.Sprintf("undefined parameter %q (declared: %s)", prop.Value, listOr(paramIDs(v.s.params))))
				}
			case "roles":
				if _, ok := v.s.roleIndex[prop.Value]; !ok {
					v.fail(node.Property, fmt.Sprintf("undefined role %q (declared: %s)", prop.Value, listOr(v.s.roles)))
				}
			case "role":
				if !roleFields[prop.Value] {
					v.fail(node.Property, fmt.Sprintf("roles have no field %q (fields: %s)", prop.Value, listOr(sortedSet(roleFields))))
				}
			}
		}
		if inner, ok := node.Node.(*ast.MemberNode); ok && isStr {
			if id, ok := inner.Node.(*ast.IdentifierNode); ok && id.Value == "roles" && !roleFields[prop.Value] {
				v.fail(node.Property, fmt.Sprintf("roles have no field %q (fields: %s)", prop.Value, listOr(sortedSet(roleFields))))
			}
		}
	}
}

func (v *nameVisitor) fail(n ast.Node, msg string) {
	v.err = msg
	v.at = n.Location().From
}

func paramIDs(ps []*Param) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func listOr(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// lineCol converts a rune offset in src to a 1-based line and 0-based column.
func lineCol(src string, offset int) (int, int) {
	line, col, i := 1, 0, 0
	for _, r := range src {
		if i == offset {
			break
		}
		if r == '\n' {
			line++
			col = 0
		} else {
			col++
		}
		i++
	}
	return line, col
}

// exprError places an expr-lang error inside the YAML file.
func exprError(err error, src string, pos textPos) *yamlpos.Error {
	fe, ok := err.(*file.Error)
	if !ok {
		return yamlpos.Errorf(pos.start, "%v", err)
	}
	msg := fe.Message
	if i := strings.Index(msg, "type struct {"); i >= 0 {
		msg = "type mismatch in expression"
	}
	line, col := lineCol(src, fe.From)
	return yamlpos.Errorf(pos.at(line, col), "in %q: %s", src, msg)
}

// Eval evaluates a compiled condition.
func (e *Expr) eval(s *schema, v *Values, role string) (bool, error) {
	out, err := expr.Run(e.prog, s.value(v, role))
	if err != nil {
		return false, fmt.Errorf("%s: %q: %w", e.Pos, e.Src, err)
	}
	b, _ := out.(bool)
	return b, nil
}

// Template is text with {{ expression }} parts, such as "{{ roles.new.install_dir }}/hub".
// Each part is an expr-lang expression compiled when the runbook loads. In command text
// each value is quoted for the shell that runs it (see quoting).
type Template struct {
	Src   string
	Pos   yamlpos.Pos
	parts []tmplPart
	// indent is the indentation of the later lines of a block scalar (|), for positions.
	indent int
	// quote is how values are written into the text: as data, or quoted for a shell.
	quote quoting
}

type tmplPart struct {
	lit  string
	prog *vm.Program
	src  string
	// pos is where the part's {{ is in the file.
	pos yamlpos.Pos
	// raw parts of command text insert their value unquoted; why says how (raw(), or a
	// parameter of type command).
	raw bool
	why string
	// own is set when the expression can only give one of the runbook's own string
	// literals (a choice between two sentences): its result is the author's text.
	own bool
}

// UnmarshalYAML keeps the source and the position of its first character. Block
// scalars (|) start on the next line, which Pos accounts for.
func (t *Template) UnmarshalYAML(n yast.Node) error {
	t.Pos, t.indent = scalarStart(n)
	var v any
	if err := yamlpos.DecodeNode(n, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case string:
		t.Src = x
	case nil:
		t.Src = ""
	case map[string]any:
		return yamlpos.Errorf(yamlpos.PosOf(n), "expected text, found a mapping")
	case []any:
		return yamlpos.Errorf(yamlpos.PosOf(n), "expected text, found a list")
	default:
		t.Src = fmt.Sprint(x)
	}
	return nil
}

// NewTemplate returns a template from source text (for values given on the command line).
func NewTemplate(src string) *Template { return &Template{Src: src} }

// IsZero reports whether the template is absent or empty.
func (t *Template) IsZero() bool { return t == nil || t.Src == "" }

func (s *schema) compileTemplate(t *Template, withRole bool) *yamlpos.Error {
	t.parts = nil
	rest := t.Src
	offset := 0
	text := textPos{start: t.Pos, indent: t.indent}
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.parts = append(t.parts, tmplPart{lit: rest})
			break
		}
		open := text.at(lineCol(t.Src, runeOffset(t.Src, offset+i)))
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return yamlpos.Errorf(open, "unclosed {{ in template")
		}
		src := rest[i+2 : i+j]
		exprStart := offset + i + 2
		t.parts = append(t.parts, tmplPart{lit: rest[:i]})
		// The expression's own errors are placed relative to where it starts in the file.
		at := textPos{start: text.at(lineCol(t.Src, runeOffset(t.Src, exprStart))), indent: t.indent}
		prog, tree, err := s.compileIn(src, at, withRole, false, t.quote != asData)
		if err != nil {
			return yamlpos.Errorf(err.Pos, "template: %s", err.Msg)
		}
		part := tmplPart{prog: prog, src: strings.TrimSpace(src), pos: open, own: literalOnly(tree.Node)}
		if t.quote != asData {
			part.why, part.raw = s.rawPart(tree.Node)
		}
		t.parts = append(t.parts, part)
		rest = rest[i+j+2:]
		offset += i + j + 2
	}
	if t.quote == asData {
		return nil
	}
	// Each quoted value must sit where the shell reads one word.
	var lits []string
	var holes []*tmplPart
	for i := range t.parts {
		if p := &t.parts[i]; p.prog == nil {
			lits = append(lits, p.lit)
		} else {
			holes = append(holes, p)
		}
	}
	for i, where := range holeContexts(t.quote, lits) {
		if where != "" && !holes[i].raw {
			return yamlpos.Errorf(holes[i].pos, "{{ %s }} is %s: cutover quotes every value for %s itself, so write {{ }} where one word belongs, without quotes around it", holes[i].src, where, t.quote)
		}
	}
	return nil
}

func runeOffset(s string, byteOffset int) int {
	return len([]rune(s[:byteOffset]))
}

// render expands the template.
func (t *Template) render(s *schema, v *Values) (string, error) {
	return t.renderWith(s, v, nil)
}

// renderWith expands the template, passing each value through esc when it is not nil
// (see renderEscaped).
func (t *Template) renderWith(s *schema, v *Values, esc escaper) (string, error) {
	if t == nil {
		return "", nil
	}
	if t.parts == nil && t.Src != "" {
		// Built at run time (e.g. from --set): compile on first use.
		if err := s.compileTemplate(t, false); err != nil {
			return "", err
		}
	}
	return t.renderEscaped(s, v, "", esc)
}

// renderFor expands a compiled template with role (empty for none) as the host the
// expressions' role refers to.
func (t *Template) renderFor(s *schema, v *Values, role string) (string, error) {
	return t.renderEscaped(s, v, role, nil)
}

// escaper escapes the values of a template for where they go in its text.
type escaper interface {
	// Text is told each piece of the template's own text, in order.
	Text(s string)
	// Value returns a value as it must appear after the text so far.
	Value(v string) string
}

// renderEscaped is renderFor with each value passed through esc (when not nil) before
// it joins the template's own text: the values of an operator text, which is
// Markdown, are escaped as Markdown. An expression that can only give one of the
// runbook's own literals gives the author's text, which is not escaped.
func (t *Template) renderEscaped(s *schema, v *Values, role string, esc escaper) (string, error) {
	var b strings.Builder
	var env any
	for _, p := range t.parts {
		if p.prog == nil {
			if esc != nil {
				esc.Text(p.lit)
			}
			b.WriteString(p.lit)
			continue
		}
		if env == nil {
			env = s.value(v, role)
		}
		out, err := expr.Run(p.prog, env)
		if err != nil {
			return "", fmt.Errorf("%s: {{ %s }}: %w", t.Pos, p.src, err)
		}
		q := t.quote
		if p.raw {
			q = asData
		}
		text, err := quoteValue(out, q, p.src)
		if err == nil && q == asData && t.quote != asData && strings.ContainsRune(text, 0) {
			err = fmt.Errorf("{{ %s }} has a NUL byte, which no command can carry: refused", p.src)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", p.pos, err)
		}
		switch {
		case esc == nil:
		case p.own:
			esc.Text(text)
		default:
			text = esc.Value(text)
		}
		b.WriteString(text)
	}
	return b.String(), nil
}

// literalOnly reports whether an expression can only result in one of its own string
// literals: a literal, or a choice (?:, if/else) between such.
func literalOnly(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.StringNode:
		return true
	case *ast.ConditionalNode:
		return literalOnly(x.Exp1) && literalOnly(x.Exp2)
	}
	return false
}

func format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []string:
		return strings.Join(x, ", ")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = format(e)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}
