package inventory

import (
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/cutover/cutover/probe/yamlpos"
)

// Bounds on the YAML of Ansible inventories and their group_vars and host_vars files.
// An alias copies what its anchor holds, and aliases of aliases multiply: nine lines
// can stand for a billion values ("billion laughs"). The values a document stands for
// once every alias is expanded, and how deep they nest, are counted on the parsed
// document before anything is decoded; the counts reuse each anchor's, so counting
// costs no more than parsing.
const (
	maxYAMLValues = 1_000_000
	maxYAMLDepth  = 100
)

// parseYAMLDoc parses data as one YAML document within the bounds and without tags
// (an Ansible !vault value, which cutover cannot decrypt, is refused by name), and
// returns its body.
func parseYAMLDoc(file string, data []byte) (ast.Node, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var dummy struct{}
		return nil, yamlpos.Decode(file, data, &dummy) // reports the syntax error with its position
	}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		return nil, yamlpos.Errorf(yamlpos.Pos{File: file, Line: 1, Col: 1}, "expected one YAML document")
	}
	body := f.Docs[0].Body
	if err := checkYAMLBounds(file, body); err != nil {
		return nil, err
	}
	return body, nil
}

// yamlSize is what a node stands for: how many values, how deep.
type yamlSize struct{ values, depth int }

// checkYAMLBounds refuses a document whose aliases expand past maxYAMLValues values or
// maxYAMLDepth levels, and one with tags.
func checkYAMLBounds(file string, body ast.Node) error {
	anchors := map[string]yamlSize{}
	var fail *yamlpos.Error
	at := func(n ast.Node) yamlpos.Pos {
		p := yamlpos.PosOf(n)
		p.File = file
		return p
	}
	var size func(n ast.Node, level int) yamlSize
	size = func(n ast.Node, level int) yamlSize {
		if n == nil || fail != nil {
			return yamlSize{}
		}
		if level > maxYAMLDepth {
			fail = yamlpos.Errorf(at(n), "values nest deeper than %d levels", maxYAMLDepth)
			return yamlSize{}
		}
		var s yamlSize
		add := func(c yamlSize) {
			s.values += c.values
			s.depth = max(s.depth, c.depth)
		}
		switch x := n.(type) {
		case *ast.TagNode:
			if x.Start.Value == "!unsafe" {
				// Ansible's mark for text it must not template; cutover templates nothing.
				return size(x.Value, level)
			}
			what := "YAML tags such as " + x.Start.Value + " are not used in inventories"
			if x.Start.Value == "!vault" {
				what = "a value encrypted with Ansible Vault (!vault): cutover cannot decrypt vault (decrypt it with ansible-vault, or see the README for other ways to give a password)"
			}
			fail = yamlpos.Errorf(at(x), "%s", what)
			return yamlSize{}
		case *ast.AnchorNode:
			s = size(x.Value, level)
			anchors[x.Name.GetToken().Value] = s
			return s
		case *ast.AliasNode:
			s = anchors[x.Value.GetToken().Value]
			if level+s.depth > maxYAMLDepth {
				fail = yamlpos.Errorf(at(x), "values nest deeper than %d levels once aliases are expanded", maxYAMLDepth)
			}
			return s
		case *ast.MappingNode:
			for _, kv := range x.Values {
				add(size(kv, level))
			}
		case *ast.MappingValueNode:
			add(size(x.Key, level+1))
			add(size(x.Value, level+1))
		case *ast.MappingKeyNode:
			add(size(x.Value, level))
		case *ast.SequenceNode:
			for _, v := range x.Values {
				add(size(v, level+1))
			}
		}
		s.values++
		s.depth++
		if s.values > maxYAMLValues {
			fail = yamlpos.Errorf(at(n), "aliases expand to more than %d values", maxYAMLValues)
		}
		return s
	}
	size(body, 0)
	if fail != nil {
		return fail
	}
	return nil
}
