package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemas are the JSON Schemas of docs/schemas, compiled once.
var schemas struct {
	once   sync.Once
	probe  *jsonschema.Schema
	events *jsonschema.Schema
	err    error
}

func loadSchemas(t *testing.T) {
	t.Helper()
	schemas.once.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		for _, name := range []string{"probe.schema.json", "events.schema.json"} {
			f, err := os.Open(filepath.Join("..", "..", "docs", "schemas", name))
			if err != nil {
				schemas.err = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(f)
			f.Close()
			if err != nil {
				schemas.err = err
				return
			}
			if err := c.AddResource("https://cutover.invalid/schemas/"+name, doc); err != nil {
				schemas.err = err
				return
			}
		}
		if schemas.probe, schemas.err = c.Compile("https://cutover.invalid/schemas/probe.schema.json"); schemas.err != nil {
			return
		}
		schemas.events, schemas.err = c.Compile("https://cutover.invalid/schemas/events.schema.json")
	})
	if schemas.err != nil {
		t.Fatal(schemas.err)
	}
}

// validateJSON checks a JSON document against a schema, and that its keys are
// snake_case.
func validateJSON(t *testing.T, s *jsonschema.Schema, doc string) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	if s != nil {
		if err := s.Validate(v); err != nil {
			t.Errorf("does not match its schema: %v\n%s", err, doc)
		}
	}
	wantSnakeCase(t, v, "")
}

// validateStream checks every record of an event stream against its schema.
func validateStream(t *testing.T, out string) {
	t.Helper()
	loadSchemas(t)
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		validateJSON(t, schemas.events, sc.Text())
	}
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// wantSnakeCase checks the keys of every object in v, except the keys of maps whose
// keys are data (a host's settings, roles, parameters, step ids).
func wantSnakeCase(t *testing.T, v any, path string) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if !snakeCase.MatchString(k) {
				t.Errorf("key %q at %s is not snake_case", k, path)
			}
			if dataOnly[k] {
				continue
			}
			if m, ok := val.(map[string]any); ok && (dataKeys[k] || k == "facts" && strings.HasSuffix(path, ".session")) {
				for name, inner := range m { // keys from the site: check only what is inside
					wantSnakeCase(t, inner, path+"."+k+"."+name)
				}
				continue
			}
			wantSnakeCase(t, val, path+"."+k)
		}
	case []any:
		for _, val := range x {
			wantSnakeCase(t, val, path+"[]")
		}
	}
}

// dataKeys are objects whose keys are names from the site (roles, parameters, files),
// not field names; so are a session's facts, by host name. dataOnly hold nothing but
// data: a host's settings (component, then the keys of its file) and services.
var (
	dataKeys = map[string]bool{"roles": true, "params": true, "marks": true}
	dataOnly = map[string]bool{"settings": true, "services": true}
)

// TestJSONConvention: every --json prints snake_case keys, and the probe output and the
// event stream match their schemas in docs/schemas.
func TestJSONConvention(t *testing.T) {
	t.Parallel()
	loadSchemas(t)
	for _, args := range [][]string{{"runbooks", "--json"}, {"version", "--json"}, {"lint", "--json"}} {
		r := cutover(t, args...)
		wantCode(t, r, 0)
		validateJSON(t, nil, r.stdout)
	}
	// The probe of a host that answers (this machine) and of one that does not.
	inv, rb, dir := streamSite(t, stepTouch)
	jpath := filepath.Join(dir, "run.jsonl")
	wantCode(t, cutover(t, "run", rb, "-i", inv, "--role", "app=me", "--headless", "--journal", jpath), 0)
	r := cutover(t, "verify", jpath, "--json")
	wantCode(t, r, 0, `"chain_intact": true`, `"signature": "none"`)
	validateJSON(t, nil, r.stdout)
	r = cutover(t, "probe", "-i", inv, "--json", "--timeout", "5s")
	wantCode(t, r, 4)
	validateJSON(t, schemas.probe, r.stdout)
	if !strings.Contains(r.stdout, `"name": "me"`) || !strings.Contains(r.stdout, `"reachable": false`) {
		t.Errorf("probe --json:\n%s", r.stdout)
	}
}
