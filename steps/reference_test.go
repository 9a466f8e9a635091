package steps

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"sort"
	"strings"
	"testing"
)

var updateReference = flag.Bool("update-reference", false, "rewrite runbooks/REFERENCE.md")

// TestReferenceIsCurrent keeps runbooks/REFERENCE.md equal to the reference generated
// from the Go types: a key, check or action added without its documentation, or a
// changed description, makes it stale.
func TestReferenceIsCurrent(t *testing.T) {
	got := Reference()
	const path = "../runbooks/REFERENCE.md"
	if *updateReference {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./steps -run TestReferenceIsCurrent -update-reference)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s is out of date: run go test ./steps -run TestReferenceIsCurrent -update-reference (or make reference)", path)
	}
	for _, kind := range append(checkKinds(), actionKinds()...) {
		if !bytes.Contains(got, []byte("### "+kind+"\n")) {
			t.Errorf("the reference has no section for %s", kind)
		}
	}
}

// TestEverySchemaPropertyHasADescription walks the generated schema: every property of
// every object says what it is, and every kind of check and action has its words and
// an example.
func TestEverySchemaPropertyHasADescription(t *testing.T) {
	raw, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var missing []string
	n := 0
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if props, ok := x["properties"].(map[string]any); ok {
				for k, p := range props {
					n++
					if pm, ok := p.(map[string]any); !ok || pm["description"] == nil || pm["description"] == "" {
						missing = append(missing, path+"."+k)
					}
				}
			}
			for k, c := range x {
				walk(path+"/"+k, c)
			}
		case []any:
			for _, c := range x {
				walk(path, c)
			}
		}
	}
	walk("", doc)
	sort.Strings(missing)
	if len(missing) > 0 || n < 150 {
		t.Errorf("%d properties, %d without a description:\n%s", n, len(missing), strings.Join(missing, "\n"))
	}
	for _, kind := range checkKinds() {
		if d := checkDocs[kind]; d.Does == "" || d.Example == "" {
			t.Errorf("check %s has no documentation or example", kind)
		}
	}
	for _, kind := range actionKinds() {
		if d := actionDocs[kind]; d.Does == "" || d.Example == "" {
			t.Errorf("action %s has no documentation or example", kind)
		}
	}
}

// TestReferenceExamplesLoad puts every example of the reference in a runbook and loads
// it: an example the loader refuses would teach authors a mistake.
func TestReferenceExamplesLoad(t *testing.T) {
	head := "id: site/example\ntitle: Example\nsystem: Site\nsource: the reference\n" +
		"roles:\n  - {id: old, title: Old}\n  - {id: new, title: New}\n" +
		"params:\n  - {id: mail_name, title: Mail name, type: host, default: mail.example.org}\n  - {id: port, title: Port, type: port, default: '2525'}\n" +
		"steps:\n"
	for kind, d := range checkDocs {
		src := head + "  - id: s\n    title: S\n    manual: true\n    gates:\n      - " + d.Example + "\n"
		if _, err := Parse("check-"+kind+".yaml", []byte(src)); err != nil {
			t.Errorf("the example of check %s does not load: %v", kind, err)
		}
	}
	for kind, d := range actionDocs {
		src := head + "  - id: s\n    title: S\n    action:\n      " + d.Example + "\n"
		if kind == "preseed" {
			// A pre-seed names the later copy step it prepares.
			src += "  - id: transfer-spool\n    title: T\n    action:\n      copy: {from: old, to: new, preseed: true, paths: [spool]}\n"
		}
		if _, err := Parse("action-"+kind+".yaml", []byte(src)); err != nil {
			t.Errorf("the example of action %s does not load: %v", kind, err)
		}
	}
}
