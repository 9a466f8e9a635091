package inventory

import (
	"maps"
	"slices"

	"github.com/goccy/go-yaml/ast"

	"github.com/cutover/cutover/probe/yamlpos"
)

// readYAML reads an Ansible inventory in YAML form into a: groups at the top level
// (usually just all:), each with hosts:, children: and vars:.
func (a *ansInv) readYAML(file string, data []byte) {
	m := a.topMapping(file, data, "expected groups (all:, ...) at the top level")
	if m == nil {
		return
	}
	all := a.groups["all"]
	for _, kv := range m.Values {
		name := kv.Key.GetToken().Value
		if name != "all" && !slices.Contains(all.children, name) {
			all.children = append(all.children, name)
		}
		a.yamlGroup(name, kv.Key, kv.Value, 0)
	}
}

// topMapping parses a YAML (or JSON) file of the inventory and returns its top-level
// mapping, or nil when there is none (the errors say why; notMapping if it is not one).
func (a *ansInv) topMapping(file string, data []byte, notMapping string) *ast.MappingNode {
	a.cur = file
	body, err := parseYAMLDoc(file, data)
	if err != nil {
		a.errs = append(a.errs, yamlpos.Errors(err)...)
		return nil
	}
	m, ok := body.(*ast.MappingNode)
	if !ok {
		a.errs.Add(a.at(body), "%s", notMapping)
		return nil
	}
	return m
}

// at is where node n of the file being read is.
func (a *ansInv) at(n ast.Node) yamlpos.Pos {
	p := yamlpos.PosOf(n)
	p.File = a.cur
	return p
}

func (a *ansInv) yamlGroup(name string, key, n ast.Node, depth int) {
	if err := ValidName(name); err != nil {
		a.errs.Add(a.at(key), "group name %q: %v", name, err)
		return
	}
	if depth > 32 {
		a.errs.Add(a.at(key), "groups nest deeper than 32 levels")
		return
	}
	g := a.group(name, a.at(key))
	if n == nil || n.Type() == ast.NullType {
		return
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		a.errs.Add(a.at(n), "group %s: expected a mapping with hosts:, children: or vars:", name)
		return
	}
	for _, kv := range m.Values {
		k := kv.Key.GetToken().Value
		switch k {
		case "hosts":
			a.yamlMapping(kv.Value, "hosts of "+name, func(hk, hv ast.Node) {
				pattern := hk.GetToken().Value
				a.hostLine(name, pattern, a.yamlVars(hv, "host "+pattern), a.at(hk))
			})
		case "children":
			a.yamlMapping(kv.Value, "children of "+name, func(ck, cv ast.Node) {
				child := ck.GetToken().Value
				a.addChild(name, child, a.at(ck))
				a.yamlGroup(child, ck, cv, depth+1)
			})
		case "vars":
			maps.Copy(g.vars, a.yamlVars(kv.Value, "vars of "+name))
		default:
			a.errs.Add(a.at(kv.Key), "group %s: unknown key %q (expected hosts, children or vars)", name, k)
		}
	}
}

// yamlMapping calls each for every key of a mapping; null is an empty mapping.
func (a *ansInv) yamlMapping(n ast.Node, what string, each func(k, v ast.Node)) {
	if n == nil || n.Type() == ast.NullType {
		return
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		a.errs.Add(a.at(n), "%s: expected a mapping", what)
		return
	}
	for _, kv := range m.Values {
		each(kv.Key, kv.Value)
	}
}

func (a *ansInv) yamlVars(n ast.Node, what string) map[string]ansVar {
	out := map[string]ansVar{}
	a.yamlMapping(n, what, func(k, v ast.Node) {
		var val any
		if v != nil && v.Type() != ast.NullType {
			if err := yamlpos.DecodeNode(v, &val); err != nil {
				a.errs.Add(a.at(v), "%s: %s: %v", what, k.GetToken().Value, err)
				return
			}
		}
		out[k.GetToken().Value] = ansVar{val: val, pos: a.at(v)}
	})
	return out
}
