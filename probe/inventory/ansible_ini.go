package inventory

import (
	"strconv"
	"strings"

	"github.com/cutover/cutover/probe/yamlpos"
)

// readINI reads an Ansible inventory in INI form into a.
func (a *ansInv) readINI(file string, data []byte) {
	section, kind := "ungrouped", "hosts"
	for n, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimRight(raw, "\r")
		trimmed := strings.TrimSpace(line)
		pos := yamlpos.Pos{File: file, Line: n + 1, Col: len(line) - len(strings.TrimLeft(line, " \t")) + 1}
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			continue
		}
		if trimmed[0] == '[' {
			end := strings.IndexByte(trimmed, ']')
			if end < 0 || strings.TrimSpace(stripComment(trimmed[end+1:])) != "" {
				a.errs.Add(pos, "section header %q: expected [group], [group:vars] or [group:children]", trimmed)
				section, kind = "", ""
				continue
			}
			name, suffix, _ := strings.Cut(trimmed[1:end], ":")
			name = strings.TrimSpace(name)
			switch suffix {
			case "", "vars", "children":
			default:
				a.errs.Add(pos, "section [%s]: %q is not a section kind (expected :vars or :children)", trimmed[1:end], suffix)
				section, kind = "", ""
				continue
			}
			if err := ValidName(name); err != nil {
				a.errs.Add(pos, "group name %q: %v", name, err)
				section, kind = "", ""
				continue
			}
			section, kind = name, cmpOr(suffix, "hosts")
			a.group(section, pos)
			continue
		}
		if section == "" {
			continue // under a broken header, already reported
		}
		switch kind {
		case "hosts":
			a.iniHostLine(section, line, pos)
		case "children":
			child := strings.TrimSpace(stripComment(trimmed))
			if err := ValidName(child); err != nil {
				a.errs.Add(pos, "child group %q of %s: %v", child, section, err)
				continue
			}
			a.addChild(section, child, pos)
		case "vars":
			k, v, ok := strings.Cut(trimmed, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" || strings.ContainsAny(k, " \t") {
				a.errs.Add(pos, "in [%s:vars]: expected key=value, found %q", section, trimmed)
				continue
			}
			a.groups[section].vars[k] = ansVar{val: unquote(strings.TrimSpace(stripComment(v))), pos: pos}
		}
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// iniHostLine reads "pattern [key=value ...]" in a hosts section.
func (a *ansInv) iniHostLine(group, line string, pos yamlpos.Pos) {
	toks, err := splitShell(line)
	if err != nil {
		a.errs.Add(pos, "%v", err)
		return
	}
	if len(toks) == 0 {
		return
	}
	pattern := toks[0].s
	vars := map[string]ansVar{}
	if hp, port, ok := hostPort(pattern); ok {
		pattern = hp
		vars["ansible_port"] = ansVar{val: port, pos: pos}
	}
	for _, t := range toks[1:] {
		k, v, ok := strings.Cut(t.s, "=")
		tp := yamlpos.Pos{File: pos.File, Line: pos.Line, Col: t.col}
		if !ok || k == "" {
			a.errs.Add(tp, "host %s: expected key=value, found %q", pattern, t.s)
			continue
		}
		vars[k] = ansVar{val: v, pos: tp}
	}
	a.hostLine(group, pattern, vars, pos)
}

// hostPort splits "host:port" (not an IPv6 address, not a range such as web[01:09]).
func hostPort(s string) (string, string, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.ContainsAny(s[i:], "[]") || strings.Count(s[:i], "[") != strings.Count(s[:i], "]") {
		return s, "", false
	}
	// More colons outside ranges make an IPv6 address, which has no port suffix here.
	depth := 0
	for _, c := range s[:i] {
		switch {
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == ':' && depth == 0:
			return s, "", false
		}
	}
	if _, err := strconv.Atoi(s[i+1:]); err != nil {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// stripComment removes a " #..." or " ;..." comment outside quotes.
func stripComment(s string) string {
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case (c == '#' || c == ';') && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

// unquote removes one pair of matching quotes.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
