package steps

import (
	"encoding/json"
	"maps"
	"reflect"
	"strings"
)

// JSONSchema describes the runbook format as a JSON Schema (draft 2020-12), so editors
// validate and complete runbooks as they are written. It is generated from the Go types
// and the check and action registries, so it cannot drift from what the loader accepts;
// the loader remains the authority (it also checks references, expressions and
// templates, which a schema cannot).
func JSONSchema() ([]byte, error) {
	g := &schemaGen{defs: map[string]any{}}
	checkOneOf := []any{}
	for _, kind := range checkKinds() {
		spec := reflect.TypeOf(checkRegistry[kind]()).Elem()
		name := "check_" + kind
		def := g.object(spec)
		def["description"] = checkDocs[kind].Does
		g.defs[name] = def
		checkOneOf = append(checkOneOf, map[string]any{"required": []string{kind}})
	}
	common := map[string]any{
		"name":       map[string]any{"type": "string"},
		"when":       map[string]any{"type": "string"},
		"wait":       g.object(reflect.TypeOf(Wait{})),
		"during_run": map[string]any{"type": "boolean"},
		"advice":     map[string]any{"type": "boolean"},
	}
	for _, kv := range commonCheckDocs {
		common[kv[0]].(map[string]any)["description"] = kv[1]
	}
	checkProps := map[string]any{}
	for k, v := range common {
		checkProps[k] = v
	}
	for _, kind := range checkKinds() {
		checkProps[kind] = map[string]any{"allOf": []any{ref("check_" + kind)}, "description": checkDocs[kind].Does}
	}
	g.defs["check"] = map[string]any{
		"type":                 "object",
		"description":          "one piece of evidence: exactly one kind of check, plus name, when, wait, during_run and advice",
		"properties":           checkProps,
		"additionalProperties": false,
		"oneOf":                checkOneOf,
	}
	actionProps := map[string]any{}
	for _, kind := range actionKinds() {
		spec := reflect.TypeOf(actionRegistry[kind]()).Elem()
		def := g.object(spec)
		def["description"] = actionDocs[kind].Does
		g.defs["action_"+kind] = def
		actionProps[kind] = map[string]any{"allOf": []any{ref("action_" + kind)}, "description": actionDocs[kind].Does}
	}
	g.defs["action"] = map[string]any{
		"type": "object", "description": "what the step does by itself: exactly one kind",
		"properties": actionProps, "additionalProperties": false, "minProperties": 1, "maxProperties": 1,
	}
	root := g.object(reflect.TypeOf(Runbook{}))
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "https://cutover.dev/schema/runbook.json"
	root["title"] = "cutover runbook"
	root["required"] = []string{"id", "title", "system", "source", "steps"}
	root["$defs"] = g.defs
	return json.MarshalIndent(root, "", "  ")
}

type schemaGen struct{ defs map[string]any }

func ref(name string) map[string]any { return map[string]any{"$ref": "#/$defs/" + name} }

var (
	tTemplate  = reflect.TypeOf(Template{})
	tExpr      = reflect.TypeOf(Expr{})
	tPattern   = reflect.TypeOf(Pattern{})
	tPatterns  = reflect.TypeOf(Patterns{})
	tRef       = reflect.TypeOf(Ref{})
	tRefs      = reflect.TypeOf(Refs{})
	tDuration  = reflect.TypeOf(Duration{})
	tDurTmpl   = reflect.TypeOf(DurationTmpl{})
	tByteSize  = reflect.TypeOf(ByteSize(0))
	tAssign    = reflect.TypeOf(Assignments{})
	tCopyPath  = reflect.TypeOf(CopyPath{})
	tCheck     = reflect.TypeOf(Check{})
	tAction    = reflect.TypeOf(Action{})
	tParamType = reflect.TypeOf(ParamType(""))
	tINIFormat = reflect.TypeOf(INIFormat(""))
)

var (
	durationSchema = map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`, "description": "a duration such as 30s, 5m or 24h"}
	stringSchema   = map[string]any{"type": "string"}
	scalarSchema   = map[string]any{"type": []string{"string", "number", "boolean"}}
)

// typeSchema maps a Go type of the model to its schema, by what the YAML decoder of
// that type accepts.
func (g *schemaGen) typeSchema(t reflect.Type) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case tTemplate:
		return map[string]any{"type": []string{"string", "number", "boolean"}, "description": "text; {{ expression }} parts are expanded"}
	case tExpr:
		return map[string]any{"type": "string", "description": "an expression over params, roles and step (expr-lang)"}
	case tPattern:
		return map[string]any{"type": "string", "description": "a regular expression (RE2)"}
	case tPatterns:
		return map[string]any{"oneOf": []any{stringSchema, map[string]any{"type": "array", "items": stringSchema}}}
	case tRef:
		return map[string]any{"type": "string", "description": "a role"}
	case tRefs:
		return map[string]any{"oneOf": []any{stringSchema, map[string]any{"type": "array", "items": stringSchema, "minItems": 1}}}
	case tDuration:
		return durationSchema
	case tDurTmpl:
		return map[string]any{"type": "string", "description": "a duration such as 15m, or a template giving one"}
	case tByteSize:
		return map[string]any{"oneOf": []any{map[string]any{"type": "integer", "minimum": 1}, map[string]any{"type": "string", "pattern": `^[0-9]+(KiB|MiB|GiB)?$`}}}
	case tAssign:
		return map[string]any{"type": "object", "additionalProperties": scalarSchema}
	case tCopyPath:
		return map[string]any{"oneOf": []any{stringSchema, g.object(t)}}
	case tCheck:
		return ref("check")
	case tAction:
		return ref("action")
	case tParamType:
		var names []string
		for _, p := range paramTypes {
			names = append(names, string(p))
		}
		return map[string]any{"enum": names}
	case tINIFormat:
		return map[string]any{"enum": []string{"ini", "properties"}, "description": "the file's dialect; by default properties for Maestro's lui.ini, hub.ini and tracker.ini, ini for any other file"}
	}
	switch t.Kind() {
	case reflect.String:
		return stringSchema
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.typeSchema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": scalarSchema}
	case reflect.Struct:
		return g.object(t)
	}
	return map[string]any{}
}

// object is the schema of a struct: its yaml-tagged fields, nothing else, each with its
// description (fieldDocs) and, where the values are fixed, their enum (fieldEnums).
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	for _, f := range yamlFields(t) {
		sch := g.typeSchema(f.Type)
		m, ok := sch.(map[string]any)
		if !ok {
			m = map[string]any{}
		}
		m = maps.Clone(m)
		if d := fieldDocs[t.Name()+"."+f.Key]; d != "" {
			if _, isRef := m["$ref"]; isRef {
				m = map[string]any{"allOf": []any{m}}
			}
			m["description"] = d
		}
		if e := fieldEnums[t.Name()+"."+f.Key]; e != nil {
			m["enum"] = e
		}
		props[f.Key] = m
	}
	return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
}

// yamlField is a key of the runbook format and the Go field it decodes into.
type yamlField struct {
	Key  string
	Type reflect.Type
}

// yamlFields lists the keys a struct of the format accepts, in declaration order.
func yamlFields(t reflect.Type) []yamlField {
	var out []yamlField
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		out = append(out, yamlField{tag, f.Type})
	}
	return out
}
