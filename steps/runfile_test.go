package steps

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunFileSaveLoadsBack(t *testing.T) {
	rb := testRunbook(t, "  - {id: one, title: One, manual: true}\n")
	in := Inputs{Roles: map[string]string{"a": "hub", "b": "spare"}, Params: map[string]string{"word": "bye", "password": "s3cret"}}
	inv := filepath.Join(t.TempDir(), "inventory.yaml")
	path := filepath.Join(t.TempDir(), "runs", "test-unit.yaml")
	if err := NewRunFile(rb, in, inv).Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "s3cret") || strings.Contains(string(data), "password") {
		t.Errorf("a secret parameter was written down:\n%s", data)
	}
	if !strings.HasPrefix(string(data), "# Run file written by cutover.") {
		t.Errorf("no header:\n%s", data)
	}
	rf, err := LoadRunFile(path)
	if err != nil {
		t.Fatalf("the saved run file does not load: %v\n%s", err, data)
	}
	got := rf.Inputs()
	if rf.Runbook != "test/unit" || rf.Inventory != inv || got.Roles["a"] != "hub" || got.Roles["b"] != "spare" || got.Params["word"] != "bye" || len(got.Params) != 1 {
		t.Errorf("loaded back: %+v, inputs %+v", rf, got)
	}
	if err := rf.CheckInputs(rb, nil, Inputs{}); err != nil {
		t.Errorf("the saved run file does not fit its runbook: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp")); len(m) > 0 {
		t.Errorf("left behind: %v", m)
	}
}

func TestRunFileSaveRefusesNoName(t *testing.T) {
	rb := testRunbook(t, "  - {id: one, title: One, manual: true}\n")
	if err := NewRunFile(rb, Inputs{}, "").Save(""); err == nil {
		t.Error("Save without a file name: no error")
	}
}
