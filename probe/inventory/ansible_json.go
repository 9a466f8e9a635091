package inventory

import (
	"github.com/goccy/go-yaml/ast"
)

// readJSON reads the JSON inventory that ansible-inventory --list prints (and that
// dynamic inventory scripts print) into a:
//
//	{"_meta": {"hostvars": {"web1": {"ansible_host": "10.0.0.5"}}},
//	 "all": {"children": ["ungrouped", "web"]},
//	 "web": {"hosts": ["web1"], "vars": {"http_port": 80}, "children": []}}
//
// A group may also be just a list of its hosts. The hostvars are the host's own
// variables; ansible-inventory has already merged its groups' and files' into them
// (unless run with --export, where groups keep their vars). JSON is YAML, so the YAML
// parser reads it, with line and column for every mistake.
func (a *ansInv) readJSON(file string, data []byte) {
	m := a.topMapping(file, data, "expected a JSON object of groups (the output of ansible-inventory --list)")
	if m == nil {
		return
	}
	var hostvars ast.Node
	for _, kv := range m.Values {
		name := kv.Key.GetToken().Value
		if name == "_meta" {
			a.yamlMapping(kv.Value, "_meta", func(k, v ast.Node) {
				if k.GetToken().Value == "hostvars" {
					hostvars = v
				}
			})
			continue
		}
		if err := ValidName(name); err != nil {
			a.errs.Add(a.at(kv.Key), "group name %q: %v", name, err)
			continue
		}
		g := a.group(name, a.at(kv.Key))
		if sq, ok := kv.Value.(*ast.SequenceNode); ok {
			a.jsonHosts(name, sq)
			continue
		}
		a.yamlMapping(kv.Value, "group "+name, func(k, v ast.Node) {
			switch key := k.GetToken().Value; key {
			case "hosts":
				a.jsonHosts(name, v)
			case "children":
				a.jsonList(v, "children of "+name, func(n ast.Node, child string) {
					if err := ValidName(child); err != nil {
						a.errs.Add(a.at(n), "child group %q of %s: %v", child, name, err)
						return
					}
					a.addChild(name, child, a.at(n))
				})
			case "vars":
				for k, v := range a.yamlVars(v, "vars of "+name) {
					g.vars[k] = v
				}
			default:
				a.errs.Add(a.at(k), "group %s: unknown key %q (expected hosts, children or vars)", name, key)
			}
		})
	}
	// Host variables last: a host listed only in _meta is still a host (in ungrouped).
	a.yamlMapping(hostvars, "_meta.hostvars", func(k, v ast.Node) {
		name := k.GetToken().Value
		a.namedHost("all", name, a.yamlVars(v, "host "+name), a.at(k))
	})
}

// jsonHosts adds the host names of a JSON list to group; they are names, not patterns.
func (a *ansInv) jsonHosts(group string, n ast.Node) {
	a.jsonList(n, "hosts of "+group, func(item ast.Node, name string) {
		a.namedHost(group, name, nil, a.at(item))
	})
}

// jsonList calls each for every text item of a list; null is an empty list.
func (a *ansInv) jsonList(n ast.Node, what string, each func(item ast.Node, s string)) {
	if n == nil || n.Type() == ast.NullType {
		return
	}
	sq, ok := n.(*ast.SequenceNode)
	if !ok {
		a.errs.Add(a.at(n), "%s: expected a list of names", what)
		return
	}
	for _, item := range sq.Values {
		if item == nil || item.GetToken() == nil || item.Type() == ast.MappingType || item.Type() == ast.SequenceType {
			a.errs.Add(a.at(sq), "%s: expected a list of names", what)
			continue
		}
		each(item, item.GetToken().Value)
	}
}
