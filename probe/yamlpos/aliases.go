package yamlpos

import "github.com/goccy/go-yaml/ast"

// expandAliases replaces every alias (*name) in n by the node its anchor (&name) marks,
// in document order, so that a part decoded on its own (by a type's UnmarshalYAML, with
// a decoder that never saw the anchor) reads the value and not an unknown alias. The
// node is shared, not copied: Parse has already bounded how many values aliases stand
// for. An alias whose anchor comes later, or never, is left for the decoder to report.
func expandAliases(n ast.Node) {
	anchors := map[string]ast.Node{}
	var walk func(n ast.Node) ast.Node
	walk = func(n ast.Node) ast.Node {
		switch v := n.(type) {
		case *ast.AnchorNode:
			v.Value = walk(v.Value)
			if v.Name != nil {
				anchors[v.Name.GetToken().Value] = v.Value
			}
		case *ast.AliasNode:
			if v.Value != nil {
				if target, ok := anchors[v.Value.GetToken().Value]; ok {
					return target
				}
			}
		case *ast.MappingNode:
			for _, kv := range v.Values {
				walk(kv)
			}
		case *ast.MappingValueNode:
			if v.Value != nil {
				v.Value = walk(v.Value)
			}
		case *ast.SequenceNode:
			for i, x := range v.Values {
				if x != nil {
					v.Values[i] = walk(x)
				}
			}
		case *ast.TagNode:
			if v.Value != nil {
				v.Value = walk(v.Value)
			}
		}
		return n
	}
	walk(n)
}
