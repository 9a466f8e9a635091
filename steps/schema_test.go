package steps_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/cutover/cutover/steps"
)

var updateSchema = flag.Bool("update-schema", false, "rewrite runbooks/schema.json")

// TestSchemaIsCurrent keeps the committed JSON Schema equal to the one generated from
// the Go types, so editors validate against what the loader accepts.
func TestSchemaIsCurrent(t *testing.T) {
	got, err := steps.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	const path = "../runbooks/schema.json"
	if *updateSchema {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./steps -run TestSchemaIsCurrent -update-schema)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
		t.Errorf("%s is out of date: run go test ./steps -run TestSchemaIsCurrent -update-schema", path)
	}
}
