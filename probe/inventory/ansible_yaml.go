package inventory

import (
	"maps"
	"slices"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/cutover/cutover/probe/yamlpos"
)

// ParseAnsibleYAML reads an Ansible inventory in YAML form: groups at the top level
// (usually just all:), each with hosts:, children: and vars:.
func ParseAnsibleYAML(file string, data []byte) (*Inventory, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var dummy struct{}
		return nil, yamlpos.Decode(file, data, &dummy) // reports the syntax error with its position
	}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		return nil, yamlpos.Errorf(yamlpos.Pos{File: file, Line: 1, Col: 1}, "expected one YAML document with groups at the top level")
	}
	a := newAnsInv(file)
	m, ok := f.Docs[0].Body.(*ast.MappingNode)
	if !ok {
		return nil, yamlpos.Errorf(a.at(f.Docs[0].Body), "expected groups (all:, ...) at the top level")
	}
	all := a.groups["all"]
	for _, kv := range m.Values {
		name := kv.Key.GetToken().Value
		if name != "all" && !slices.Contains(all.children, name) {
			all.children = append(all.children, name)
		}
		a.yamlGroup(name, kv.Key, kv.Value, 0)
	}
	a.expandHosts()
	// Hosts listed in no group below all are ungrouped, as in Ansible.
	for _, h := range all.hosts {
		if !a.inChildGroup(h) {
			a.addHost("ungrouped", h, a.hosts[h].pos)
		}
	}
	if !slices.Contains(all.children, "ungrouped") {
		all.children = append(all.children, "ungrouped")
	}
	return a.build(data)
}

func (a *ansInv) inChildGroup(host string) bool {
	for _, g := range a.groups {
		if g.name != "all" && g.name != "ungrouped" && g.hostSet[host] {
			return true
		}
	}
	return false
}

func (a *ansInv) at(n ast.Node) yamlpos.Pos {
	p := yamlpos.PosOf(n)
	p.File = a.file
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
