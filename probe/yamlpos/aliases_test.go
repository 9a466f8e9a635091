package yamlpos

import (
	"testing"

	"github.com/goccy/go-yaml/ast"
)

type aliasItem struct {
	Name string `yaml:"name"`
	Pos  Pos    `yaml:"-"`
}

func (a *aliasItem) UnmarshalYAML(n ast.Node) error {
	type plain aliasItem
	a.Pos = PosOf(n)
	return DecodeNode(n, (*plain)(a))
}

// TestAliasesReachPartsDecodedOnTheirOwn: an alias inside a part that a type decodes
// itself reads the anchored value, as it does anywhere else.
func TestAliasesReachPartsDecodedOnTheirOwn(t *testing.T) {
	var doc struct {
		Items []*aliasItem `yaml:"items"`
		Again []*aliasItem `yaml:"again"`
	}
	err := Decode("a.yaml", []byte("items:\n  - &one {name: first}\n  - {name: second}\nagain:\n  - *one\n"), &doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Again) != 1 || doc.Again[0].Name != "first" || doc.Again[0].Pos.Line != 2 {
		t.Errorf("alias decoded as %+v", doc.Again)
	}
	if err := Decode("b.yaml", []byte("items:\n  - *nothing\n"), &doc); err == nil {
		t.Error("an alias of no anchor is accepted")
	}
}

// TestAnchoredValuesHaveTheirValuesShape: a value marked with an anchor is judged by
// the value itself, not refused as "an anchor".
func TestAnchoredValuesHaveTheirValuesShape(t *testing.T) {
	var doc struct {
		A map[string]string `yaml:"a"`
		B map[string]string `yaml:"b"`
		L []string          `yaml:"l"`
	}
	if err := Decode("c.yaml", []byte("a: &m {k: v}\nb: *m\nl: &l [x]\n"), &doc); err != nil || doc.B["k"] != "v" {
		t.Errorf("%v %+v", err, doc)
	}
}
