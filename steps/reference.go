package steps

import (
	"fmt"
	"reflect"
	"strings"
)

// Reference is the runbook format's reference in Markdown (runbooks/REFERENCE.md): every
// key of every part, what it means and what values it takes, every check kind and every
// action with an example. It is generated from the Go types, the check and action
// registries and their documentation (schema_docs.go, reference_docs.go), like the JSON
// Schema, so it describes exactly what the loader accepts.
func Reference() []byte {
	var b strings.Builder
	b.WriteString("# Runbook reference\n\n")
	b.WriteString("Generated from cutover's Go types by `go test ./steps -run TestReferenceIsCurrent -update-reference`;\n")
	b.WriteString("do not edit by hand. The README's section for authors shows how the parts fit together;\n")
	b.WriteString("`runbooks/schema.json` is the same format as a JSON Schema for editors.\n\n")
	b.WriteString("Values marked *template* may hold `{{ expression }}` parts, expanded when the step runs;\n")
	b.WriteString("*expression* values are [expr](https://expr-lang.org) over `params`, `roles.NAME` (a host's\n")
	b.WriteString("facts: host, hostname, os, components, settings, ...) and `step`. In command text every\n")
	b.WriteString("value is quoted for the host's shell.\n\n")
	b.WriteString("Contents: [Runbook](#runbook), [Role](#role), [Requirement](#requirement), [Parameter](#parameter),\n")
	b.WriteString("[Rejection](#rejection), [Preset](#preset), [Step](#step), [Checks](#checks), [Actions](#actions).\n\n")
	parts := []struct {
		title string
		t     reflect.Type
		intro string
	}{
		{"Runbook", reflect.TypeOf(Runbook{}), "The top level of a runbook file. `id`, `title`, `system`, `source` and `steps` are required."},
		{"Role", reflect.TypeOf(Role{}), "An entry of `roles`: a part a host plays."},
		{"Requirement", reflect.TypeOf(Require{}), "An entry of a role's `requires`."},
		{"Parameter", reflect.TypeOf(Param{}), "An entry of `params`."},
		{"Rejection", reflect.TypeOf(Rejection{}), "An entry of a parameter's `reject`."},
		{"Preset", reflect.TypeOf(Preset{}), "An entry of `presets`."},
		{"Step", reflect.TypeOf(Step{}), "An entry of `steps`. A step without an action and not `manual` only checks."},
		{"Wait", reflect.TypeOf(Wait{}), "A check's `wait`."},
		{"Copy path", reflect.TypeOf(CopyPath{}), "An entry of a `copy` action's `paths`, when it is more than a path."},
		{"Calibration", reflect.TypeOf(Calibration{}), "The `calibrate` of an `ini` or `newest_file` check."},
		{"Same INI", reflect.TypeOf(SameINI{}), "The `ini` of a `same` check."},
		{"Same command", reflect.TypeOf(SameCommand{}), "The `command` of a `same` check."},
		{"Write test", reflect.TypeOf(WriteTest{}), "The `test` of a `write` action."},
	}
	for _, p := range parts {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", p.title, p.intro)
		fieldTable(&b, p.t)
	}
	b.WriteString("## Checks\n\n")
	b.WriteString("An entry of a step's `pre` or `gates`: exactly one kind below, and any of these keys:\n\n")
	b.WriteString("| key | meaning |\n| --- | --- |\n")
	for _, kv := range commonCheckDocs {
		fmt.Fprintf(&b, "| `%s` | %s |\n", kv[0], kv[1])
	}
	b.WriteString("\n")
	for _, kind := range checkKinds() {
		d := checkDocs[kind]
		fmt.Fprintf(&b, "### %s\n\n%s.\n\n", kind, upperFirst(d.Does))
		fieldTable(&b, reflect.TypeOf(checkRegistry[kind]()).Elem())
		fmt.Fprintf(&b, "```yaml\ngates:\n  - %s\n```\n\n", d.Example)
	}
	b.WriteString("## Actions\n\n")
	b.WriteString("A step's `action`: exactly one kind below. Every action is journaled with its inputs and outcome.\n\n")
	for _, kind := range actionKinds() {
		d := actionDocs[kind]
		fmt.Fprintf(&b, "### %s\n\n%s.\n\n", kind, upperFirst(d.Does))
		fieldTable(&b, reflect.TypeOf(actionRegistry[kind]()).Elem())
		fmt.Fprintf(&b, "```yaml\naction:\n  %s\n```\n\n", d.Example)
	}
	return []byte(strings.TrimRight(b.String(), "\n") + "\n")
}

// fieldTable writes a table of a struct's keys: name, value, meaning.
func fieldTable(b *strings.Builder, t reflect.Type) {
	b.WriteString("| key | value | meaning |\n| --- | --- | --- |\n")
	for _, f := range yamlFields(t) {
		name := t.Name() + "." + f.Key
		value := valueWords(f.Type)
		if e := fieldEnums[name]; e != nil {
			value = "one of `" + strings.Join(e, "`, `") + "`"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", f.Key, value, strings.ReplaceAll(fieldDocs[name], "|", `\|`))
	}
	b.WriteString("\n")
}

// valueWords says what a value of type t is, in the reference's words.
func valueWords(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case tTemplate:
		return "template"
	case tExpr:
		return "expression"
	case tPattern:
		return "regular expression"
	case tPatterns:
		return "regular expression, or a list"
	case tRef:
		return "role"
	case tRefs:
		return "role, or a list"
	case tDuration:
		return "duration (30s, 5m, 24h)"
	case tDurTmpl:
		return "duration, or template"
	case tByteSize:
		return "size (64KiB, 1MiB)"
	case tAssign:
		return "mapping of key: template"
	case tCheck:
		return "[checks](#checks)"
	case tAction:
		return "[action](#actions)"
	case tParamType:
		var names []string
		for _, p := range paramTypes {
			names = append(names, string(p))
		}
		return "one of `" + strings.Join(names, "`, `") + "`"
	case tINIFormat:
		return "`ini` or `properties`"
	}
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "number"
	case reflect.Map:
		return "mapping"
	case reflect.Slice:
		inner := valueWords(t.Elem())
		if strings.HasPrefix(inner, "[") {
			return "list of " + inner
		}
		return "list of " + inner
	case reflect.Struct:
		return "mapping"
	}
	return t.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
