package runbooks

import (
	"bytes"
	"io/fs"
	"os"
	"strings"
	"testing"

	yaml "github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestEmbeddedRunbooksMatchTheSchema validates every shipped runbook against
// runbooks/schema.json, the schema editors use: a runbook the loader accepts must not
// be flagged by the editor, and a schema that accepted anything would be caught by the
// broken examples below.
func TestEmbeddedRunbooksMatchTheSchema(t *testing.T) {
	raw, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	validate := func(name string, data []byte) error {
		js, err := yaml.YAMLToJSON(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return sch.Validate(v)
	}
	n := 0
	err = fs.WalkDir(Embedded, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !IsRunbookFile(p) || strings.HasPrefix(p, "labfiles/") {
			return err
		}
		data, _ := fs.ReadFile(Embedded, p)
		if err := validate(p, data); err != nil {
			t.Errorf("%s does not match the schema:\n%v", p, err)
		}
		n++
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walked %d runbooks: %v", n, err)
	}
	for name, bad := range map[string]string{
		"unknown top-level key": "id: a/b\ntitle: t\nsystem: s\nsource: x\nstepz: []\nsteps: [{id: s, title: t, manual: true}]\n",
		"unknown check kind":    "id: a/b\ntitle: t\nsystem: s\nsource: x\nsteps: [{id: s, title: t, gates: [{file_exist: {role: r, path: p}}]}]\n",
		"two check kinds":       "id: a/b\ntitle: t\nsystem: s\nsource: x\nsteps: [{id: s, title: t, gates: [{file_exists: {role: r, path: p}, file_absent: {role: r, path: p}}]}]\n",
		"bad duration":          "id: a/b\ntitle: t\nsystem: s\nsource: x\nsteps: [{id: s, title: t, gates: [{file_exists: {role: r, path: p}, wait: {timeout: soon}}]}]\n",
		"missing steps":         "id: a/b\ntitle: t\nsystem: s\nsource: x\n",
	} {
		if validate(name, []byte(bad)) == nil {
			t.Errorf("the schema accepts a runbook with %s", name)
		}
	}
}
