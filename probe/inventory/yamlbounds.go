package inventory

import (
	"github.com/goccy/go-yaml/ast"

	"github.com/cutover/cutover/probe/yamlpos"
)

// parseYAMLDoc parses data as one YAML document within yamlpos.Parse's bounds (size,
// nesting, entries, and aliases expanded: an alias bomb is refused before anything is
// decoded) and without tags: an Ansible !vault value, which cutover cannot decrypt, is
// refused by name; !unsafe (Ansible's mark for text it must not template) is read as
// the text, since cutover templates nothing.
func parseYAMLDoc(file string, data []byte) (ast.Node, error) {
	f, err := yamlpos.Parse(file, data)
	if err != nil {
		return nil, err
	}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		return nil, yamlpos.Errorf(yamlpos.Pos{File: file, Line: 1, Col: 1}, "expected one YAML document")
	}
	body := f.Docs[0].Body
	var fail *yamlpos.Error
	ast.Walk(visitor(func(n ast.Node) bool {
		t, ok := n.(*ast.TagNode)
		if !ok || fail != nil || t.Start.Value == "!unsafe" {
			return fail == nil
		}
		p := yamlpos.PosOf(t)
		p.File = file
		if t.Start.Value == "!vault" {
			fail = yamlpos.Errorf(p, "a value encrypted with Ansible Vault (!vault): cutover cannot decrypt vault (decrypt it with ansible-vault; a sudo password can come from CUTOVER_BECOME_PASSWORD or a prompt instead)")
		} else {
			fail = yamlpos.Errorf(p, "YAML tags such as %s are not used in inventories", t.Start.Value)
		}
		return false
	}), body)
	if fail != nil {
		return nil, fail
	}
	return body, nil
}

type visitor func(ast.Node) bool

func (f visitor) Visit(n ast.Node) ast.Visitor {
	if f(n) {
		return f
	}
	return nil
}
