// Package ini reads and edits INI files line by line. An edit changes only the lines it
// was asked to change: comments, blank lines, ordering, spacing around "=", line endings
// and a missing final newline all survive, so a diff of the result shows exactly the
// edit and nothing else. Maestro's INI files have no sections, but sections work too.
package ini

import (
	"bytes"
	"fmt"
	"strings"
)

// File is a parsed INI file. The zero value is an empty file.
type File struct {
	lines []line
	eol   string // the file's line ending, kept for new lines
	final bool   // whether the last line ended with a line ending
}

type line struct {
	raw     string // without the line ending
	cr      bool   // the line ended with "\r\n" (files may mix endings; each line keeps its own)
	section string // the section the line belongs to ("" before any header)
	key     string // "" for comments, blanks and headers
	value   string
	header  bool
}

// Parse reads an INI file. It never fails: lines it does not understand are kept as
// they are and have no key.
func Parse(data []byte) *File {
	f := &File{eol: "\n"}
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

// Get returns the value of key in section ("" for keys before any section header). Keys
// compare case-insensitively, as Maestro and Windows INI readers do. When a key appears
// twice the last one wins, again as those readers do.
func (f *File) Get(section, key string) (string, bool) {
	idx := f.find(section, key)
	if len(idx) == 0 {
		return "", false
	}
	return f.lines[idx[len(idx)-1]].value, true
}

// Keys returns every key of section with its value. As in Get, keys compare without
// regard to case and the last definition wins, spelling included.
func (f *File) Keys(section string) map[string]string {
	m := map[string]string{}
	spelled := map[string]string{} // lower case → the spelling in m
	for _, l := range f.lines {
		if l.key != "" && strings.EqualFold(l.section, section) {
			lower := strings.ToLower(l.key)
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
		if l.key != "" && strings.EqualFold(l.key, key) && strings.EqualFold(l.section, section) {
			idx = append(idx, i)
		}
	}
	return idx
}

// Set gives key the value in section. An existing line keeps its key spelling and the
// spacing around "="; only its value changes. A new key goes after the last key of its
// section (or at the end of the file, creating the section header if needed). Duplicate
// definitions are all set, so no stale copy can win later. Spaces around value are
// dropped, as every reader drops them.
func (f *File) Set(section, key, value string) error {
	if err := validKey(key); err != nil {
		return err
	}
	if err := validSection(section); err != nil {
		return err
	}
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("value for %s contains a line break", key)
	}
	// Readers trim the spaces around a value, so writing them would only make the file
	// say something else than Get reports.
	value = strings.TrimSpace(value)
	idx := f.find(section, key)
	for _, i := range idx {
		l := &f.lines[i]
		k, v, _ := strings.Cut(l.raw, "=")
		lead := v[:len(v)-len(strings.TrimLeft(v, " \t"))]
		l.raw = k + "=" + lead + value
		l.value = value
	}
	if len(idx) > 0 {
		return nil
	}
	cr := f.eol == "\r\n"
	nl := line{raw: key + "=" + value, cr: cr, section: section, key: key, value: value}
	at := -1
	for i, l := range f.lines {
		if strings.EqualFold(l.section, section) && (l.key != "" || l.header) {
			at = i
		}
	}
	if at < 0 && section == "" {
		// Keys before any section header belong to no section: a new one goes just before
		// the first header, not at the end of the file, where it would join the last section.
		for i, l := range f.lines {
			if l.header {
				f.lines = append(f.lines[:i], append([]line{nl}, f.lines[i:]...)...)
				return nil
			}
		}
	}
	if at < 0 {
		// An appended line must start on a line of its own; the file then ends with a line
		// ending, as a tidy INI file does.
		f.final = true
		if section != "" {
			f.lines = append(f.lines, line{raw: "[" + section + "]", cr: cr, section: section, header: true})
		}
		f.lines = append(f.lines, nl)
		return nil
	}
	if at == len(f.lines)-1 {
		f.final = true
	}
	f.lines = append(f.lines[:at+1], append([]line{nl}, f.lines[at+1:]...)...)
	return nil
}

// Unset removes every definition of key in section and reports whether there was one.
func (f *File) Unset(section, key string) bool {
	idx := f.find(section, key)
	for j := len(idx) - 1; j >= 0; j-- {
		i := idx[j]
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
