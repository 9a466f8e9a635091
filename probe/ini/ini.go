// Package ini reads and edits INI files line by line. An edit changes only the lines it
// was asked to change: comments, blank lines, ordering, spacing around "=", line endings
// and a missing final newline all survive, so a diff of the result shows exactly the
// edit and nothing else.
//
// Two dialects: the Windows-style INI of most systems (sections, ";" and "#" comments,
// key=value, keys compared without regard to case), and the Java properties format that
// LISTSERV Maestro reads its lui.ini, hub.ini and tracker.ini with (no sections, "=",
// ":" or white space between key and value, backslash escapes, continuation lines, "#"
// and "!" comments, keys compared exactly). A value is read the way the program that
// owns the file reads it, and written so that it reads it back unchanged.
package ini

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Dialect is a file format's rules for reading and writing keys.
type Dialect int

// The dialects.
const (
	// INI is the Windows-style format: "[section]" headers, ";" and "#" comments,
	// "key = value" with spaces around the value trimmed, keys compared without regard
	// to case, no escapes.
	INI Dialect = iota
	// Properties is the Java properties format (java.util.Properties.load): no sections,
	// "#" and "!" comments, "=", ":" or white space between key and value, backslash
	// escapes ("\\", "\t", "\uXXXX", ...), a line ending in a backslash continued on
	// the next, keys compared exactly. A lone carriage return inside a line is kept as
	// text, where Java would end the line.
	Properties
)

// String names the dialect as runbooks write it.
func (d Dialect) String() string {
	if d == Properties {
		return "properties"
	}
	return "ini"
}

// ParseDialect reads a dialect's name as runbooks write it: "ini" or "properties".
func ParseDialect(s string) (Dialect, error) {
	switch s {
	case "ini":
		return INI, nil
	case "properties":
		return Properties, nil
	}
	return INI, fmt.Errorf("unknown INI format %q (ini or properties)", s)
}

// File is a parsed INI file. The zero value is an empty file of the INI dialect.
type File struct {
	lines   []line
	eol     string // the file's line ending, kept for new lines
	final   bool   // whether the last line ended with a line ending
	dialect Dialect
}

type line struct {
	raw     string // without the line ending
	cr      bool   // the line ended with "\r\n" (files may mix endings; each line keeps its own)
	section string // the section the line belongs to ("" before any header)
	key     string // "" for comments, blanks and headers
	value   string
	header  bool
	// prefix is what stays of a key's line when its value is rewritten: the key as
	// written and the separator, with the spacing around them.
	prefix string
	// def marks the first line of a definition, cont a line that continues the one
	// before it (properties).
	def, cont bool
}

// Parse reads an INI file of the INI dialect. It never fails: lines it does not
// understand are kept as they are and have no key.
func Parse(data []byte) *File {
	return ParseAs(data, INI)
}

// ParseAs reads a file of the given dialect. It never fails: lines it does not
// understand are kept as they are and have no key.
func ParseAs(data []byte, d Dialect) *File {
	f := &File{eol: "\n", dialect: d}
	if bytes.Contains(data, []byte("\r\n")) {
		f.eol = "\r\n"
	}
	if len(data) == 0 {
		f.final = true
		return f
	}
	text := string(data)
	f.final = strings.HasSuffix(text, "\n")
	text = strings.TrimSuffix(text, "\n")
	if d == Properties {
		f.lines = parseProperties(strings.Split(text, "\n"))
		return f
	}
	section := ""
	for _, raw := range strings.Split(text, "\n") {
		l := line{section: section}
		raw, l.cr = strings.CutSuffix(raw, "\r")
		l.raw = raw
		t := strings.TrimSpace(raw)
		switch {
		case t == "" || t[0] == ';' || t[0] == '#':
		case t[0] == '[' && strings.HasSuffix(t, "]"):
			section = strings.TrimSpace(t[1 : len(t)-1])
			l.section, l.header = section, true
		default:
			if k, v, ok := strings.Cut(raw, "="); ok && strings.TrimSpace(k) != "" {
				l.key = strings.TrimSpace(k)
				l.value = strings.TrimSpace(v)
				l.prefix = k + "=" + v[:len(v)-len(strings.TrimLeft(v, " \t"))]
			}
		}
		f.lines = append(f.lines, l)
	}
	return f
}

// Bytes renders the file.
func (f *File) Bytes() []byte {
	var b strings.Builder
	for i, l := range f.lines {
		b.WriteString(l.raw)
		if l.cr {
			b.WriteByte('\r')
		}
		if i < len(f.lines)-1 || f.final {
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

// sameKey compares keys as the dialect's readers do: exactly in properties files,
// without regard to case in INI files.
func (f *File) sameKey(a, b string) bool {
	if f.dialect == Properties {
		return a == b
	}
	return strings.EqualFold(a, b)
}

// Get returns the value of key in section ("" for keys before any section header). Keys
// compare as the dialect's readers compare them (without regard to case in INI files,
// as Windows INI readers do; exactly in properties files). When a key appears twice the
// last one wins, again as those readers do. A properties value comes back unescaped.
func (f *File) Get(section, key string) (string, bool) {
	idx := f.find(section, key)
	if len(idx) == 0 {
		return "", false
	}
	return f.lines[idx[len(idx)-1]].value, true
}

// Keys returns every key of section with its value. As in Get, keys compare as the
// dialect does and the last definition wins, spelling included.
func (f *File) Keys(section string) map[string]string {
	m := map[string]string{}
	spelled := map[string]string{} // lower case → the spelling in m
	for _, l := range f.lines {
		if l.key != "" && strings.EqualFold(l.section, section) {
			lower := strings.ToLower(l.key)
			if f.dialect == Properties {
				lower = l.key
			}
			if old, ok := spelled[lower]; ok {
				delete(m, old)
			}
			spelled[lower] = l.key
			m[l.key] = l.value
		}
	}
	return m
}

func (f *File) find(section, key string) []int {
	var idx []int
	for i, l := range f.lines {
		if l.key != "" && f.sameKey(l.key, key) && strings.EqualFold(l.section, section) {
			idx = append(idx, i)
		}
	}
	return idx
}

// Set gives key the value in section. An existing line keeps its key spelling and the
// spacing around "="; only its value changes. A new key goes after the last key of its
// section (or at the end of the file, creating the section header if needed). Duplicate
// definitions are all set, so no stale copy can win later. Spaces around value are
// dropped, as INI readers drop them. In a properties file the value is written escaped
// (a backslash doubled, other characters than printable ASCII as \uXXXX), so that Java
// reads back exactly value, and a definition continued over several lines becomes one.
func (f *File) Set(section, key, value string) error {
	if err := validKey(key); err != nil {
		return err
	}
	if err := validSection(section); err != nil {
		return err
	}
	if f.dialect == Properties && section != "" {
		return fmt.Errorf("a properties file has no sections (asked for [%s])", section)
	}
	if f.dialect == Properties && (!utf8.ValidString(key) || !utf8.ValidString(value)) {
		return fmt.Errorf("the key or value for %q is not valid UTF-8, so it cannot be written as Java reads it", key)
	}
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("value for %s contains a line break", key)
	}
	// Readers trim the spaces around a value, so writing them would only make the file
	// say something else than Get reports.
	value = strings.TrimSpace(value)
	written := value
	if f.dialect == Properties {
		written = escapeProperty(value, false)
	}
	idx := f.find(section, key)
	for j := len(idx) - 1; j >= 0; j-- {
		i := idx[j]
		f.dropContinuations(i)
		l := &f.lines[i]
		l.raw = l.prefix + written
		l.value = value
	}
	if len(idx) > 0 {
		return nil
	}
	cr := f.eol == "\r\n"
	spelled := key
	if f.dialect == Properties {
		spelled = escapeProperty(key, true)
	}
	nl := line{raw: spelled + "=" + written, cr: cr, section: section, key: key, value: value, prefix: spelled + "="}
	at := -1
	for i, l := range f.lines {
		if strings.EqualFold(l.section, section) && (l.key != "" || l.header || l.cont) {
			at = i
		}
	}
	if at < 0 && section == "" {
		// Keys before any section header belong to no section: a new one goes just before
		// the first header, not at the end of the file, where it would join the last section.
		for i, l := range f.lines {
			if l.header {
				f.insert(i, nl)
				return nil
			}
		}
	}
	if at < 0 {
		// An appended line must start on a line of its own; the file then ends with a line
		// ending, as a tidy INI file does.
		if section != "" {
			f.final = true
			f.lines = append(f.lines, line{raw: "[" + section + "]", cr: cr, section: section, header: true})
		}
		f.insert(len(f.lines), nl)
		return nil
	}
	f.insert(at+1, nl)
	return nil
}

// insert puts nl before line i (at the end when i is the number of lines).
func (f *File) insert(i int, nl line) {
	if f.dialect == Properties && i > 0 && (f.lines[i-1].def || f.lines[i-1].cont) && oddBackslashes(f.lines[i-1].raw) {
		// The definition before ends the file with a backslash, which Java drops; a line
		// after it would become part of its value. The new line goes before it instead.
		for i--; i > 0 && f.lines[i].cont; i-- {
		}
	}
	if i == len(f.lines) {
		f.final = true
	}
	f.lines = append(f.lines[:i], append([]line{nl}, f.lines[i:]...)...)
}

// Unset removes every definition of key in section and reports whether there was one.
// A definition continued over several lines goes with all of them.
func (f *File) Unset(section, key string) bool {
	idx := f.find(section, key)
	for j := len(idx) - 1; j >= 0; j-- {
		i := idx[j]
		f.dropContinuations(i)
		if i == len(f.lines)-1 {
			// The line before the removed last one keeps its line ending.
			f.final = true
		}
		f.lines = append(f.lines[:i], f.lines[i+1:]...)
	}
	if len(f.lines) == 0 {
		f.final = true
	}
	return len(idx) > 0
}

func validKey(key string) error {
	if strings.TrimSpace(key) == "" {
		return fmt.Errorf("empty key")
	}
	if strings.ContainsAny(key, "=[]\r\n;#") || strings.TrimSpace(key) != key {
		return fmt.Errorf("invalid key %q", key)
	}
	return nil
}

func validSection(section string) error {
	if strings.ContainsAny(section, "[]\r\n") || strings.TrimSpace(section) != section {
		return fmt.Errorf("invalid section name %q", section)
	}
	return nil
}

// Change is one line-level difference between two renderings of a file.
type Change struct {
	Line int    // 1-based line number in the old file (for additions: the line after which it goes)
	Old  string // "" for an added line
	New  string // "" for a removed line
}

// Diff lists the changed lines between old and new, which must come from the same
// file through Set and Unset (so lines only change in place, appear or disappear).
func Diff(old, new []byte) []Change {
	a := splitLines(old)
	b := splitLines(new)
	// Longest common subsequence on lines: files are small, quadratic is fine.
	n, m := len(a), len(b)
	dp := make([][]int, n+1)
	for i := range dp {
		dp[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	var out []Change
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			i++
			j++
		case i < n && j < m && dp[i+1][j+1] == dp[i][j]:
			out = append(out, Change{Line: i + 1, Old: a[i], New: b[j]})
			i++
			j++
		case j < m && (i == n || dp[i][j+1] >= dp[i+1][j]):
			out = append(out, Change{Line: i, New: b[j]})
			j++
		default:
			out = append(out, Change{Line: i + 1, Old: a[i]})
			i++
		}
	}
	return out
}

func splitLines(data []byte) []string {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
