package ini_test

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/cutover/cutover/probe/ini"
)

func addSeeds(f *testing.F) {
	for _, in := range roundTripInputs {
		f.Add(in, false)
	}
	for _, in := range propertiesInputs {
		f.Add(in, true)
	}
}

func dialect(props bool) ini.Dialect {
	if props {
		return ini.Properties
	}
	return ini.INI
}

// FuzzParseBytesIsIdentity: rendering a parsed file gives back exactly its bytes, and
// Keys agrees with Get, in both dialects.
func FuzzParseBytesIsIdentity(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, content string, props bool) {
		file := ini.ParseAs([]byte(content), dialect(props))
		if got := file.Bytes(); !bytes.Equal(got, []byte(content)) {
			t.Fatalf("Parse(%q).Bytes() = %q", content, got)
		}
		for k, v := range file.Keys("") {
			if got, ok := file.Get("", k); !ok || got != v {
				t.Fatalf("Keys gives %s=%q, Get gives %q, %v", k, v, got, ok)
			}
		}
	})
}

// FuzzSetKeepsOtherLines checks what the product promises: the INI editor never changes
// a line it was not asked to. After Set or Unset of one key, every other line is still
// there, unchanged and in the same order; in a properties file, every line that is not
// part of a definition of the key (its first line or a continuation of it).
func FuzzSetKeepsOtherLines(f *testing.F) {
	for _, in := range roundTripInputs {
		f.Add(in, "", "a", "new", false, false)
		f.Add(in, "main", "a", "new", true, false)
	}
	for _, in := range propertiesInputs {
		f.Add(in, "", "a", `C:\new\ü`, false, true)
		f.Add(in, "", "list", "x", true, true)
		f.Add(in, "", "b", "  spaced  ", false, true)
	}
	f.Add("x=1\n[s]\nk=2\n[t]\nk=3\n", "S", "K", "v", false, false)
	f.Add("; top\n[s]\nk=2", "", "new", " spaced ", false, false)
	f.Add("k=1\r\nK = 2\r\nj=3", "", "k", "", true, false)
	f.Add("[a]\n[b]\n", "c", "k", "v", false, false)
	f.Fuzz(func(t *testing.T, content, section, key, value string, unset, props bool) {
		file := ini.ParseAs([]byte(content), dialect(props))
		var err error
		if unset {
			file.Unset(section, key)
		} else {
			err = file.Set(section, key, value)
		}
		out := string(file.Bytes())
		if err != nil {
			if out != content {
				t.Fatalf("a refused Set(%q, %q, %q) changed %q to %q", section, key, value, content, out)
			}
			return
		}
		if again := string(ini.ParseAs([]byte(out), dialect(props)).Bytes()); again != out {
			t.Fatalf("the result does not round-trip: %q -> %q", out, again)
		}

		classifier := classify
		if props {
			classifier = classifyProperties
		}
		before := classifier(content, section, key)
		after := classifier(out, section, key)
		keptBefore := before.others()
		keptAfter := after.others()
		if !before.hasHeader && after.hasHeader && section != "" {
			// Set created the section: its header is one of the lines it was asked to add.
			i := slices.IndexFunc(keptAfter, func(l string) bool { return strings.TrimSuffix(l, "\r") == "["+section+"]" })
			if i < 0 {
				t.Fatalf("Set created section %q but no header [%s] is in %q", section, section, out)
			}
			keptAfter = slices.Delete(keptAfter, i, i+1)
		}
		if !slices.Equal(keptBefore, keptAfter) {
			t.Fatalf("lines other than %s/%s changed\ncontent %q\nresult  %q\nbefore %q\nafter  %q",
				section, key, content, out, keptBefore, keptAfter)
		}

		reread := ini.ParseAs([]byte(out), dialect(props))
		got, ok := reread.Get(section, key)
		if unset {
			if len(after.matches) > 0 || ok {
				t.Fatalf("Unset(%q, %q) left %q in %q", section, key, after.matches, out)
			}
			return
		}
		if len(after.matches) == 0 || !ok || got != strings.TrimSpace(value) {
			t.Fatalf("after Set(%q, %q, %q), reading %q back gives %q, %v", section, key, value, out, got, ok)
		}
		if n := len(before.matches); n > 0 && len(after.matches) != n && !props {
			t.Fatalf("Set changed the number of %s lines from %d to %d", key, n, len(after.matches))
		}
		if mem, _ := file.Get(section, key); mem != got {
			t.Fatalf("Get after Set = %q, but the written file says %q", mem, got)
		}
	})
}

// classified splits an INI text into lines (without their "\n", with any "\r") and says
// which are definitions of one key. It follows the format's rules independently of the
// package: "[name]" opens a section, ";" and "#" start comments, "key = value" defines.
type classified struct {
	lines     []string
	match     []bool
	matches   []string
	hasHeader bool
}

func classify(content, section, key string) classified {
	var c classified
	if content == "" {
		return c
	}
	c.lines = strings.Split(strings.TrimSuffix(content, "\n"), "\n")
	current := ""
	for _, raw := range c.lines {
		text := strings.TrimSuffix(raw, "\r")
		trim := strings.TrimSpace(text)
		isKey := false
		switch {
		case trim == "" || trim[0] == ';' || trim[0] == '#':
		case trim[0] == '[' && strings.HasSuffix(trim, "]"):
			current = strings.TrimSpace(trim[1 : len(trim)-1])
			if strings.EqualFold(current, section) {
				c.hasHeader = true
			}
		default:
			if k, _, ok := strings.Cut(text, "="); ok {
				isKey = strings.TrimSpace(k) != "" && strings.EqualFold(strings.TrimSpace(k), key) && strings.EqualFold(current, section)
			}
		}
		c.match = append(c.match, isKey)
		if isKey {
			c.matches = append(c.matches, raw)
		}
	}
	return c
}

func (c classified) others() []string {
	var out []string
	for i, l := range c.lines {
		if !c.match[i] {
			out = append(out, l)
		}
	}
	return out
}

// classifyProperties marks the lines of a properties text that belong to a definition
// of key: its first line and the lines that continue it. It walks the text as Java's
// LineReader does, character by character, independently of the package: leading white
// space skipped, "#" or "!" first on a line makes a comment, a line ending after an odd
// number of backslashes continues on the next line unless that one is blank, and the
// key ends at the first unescaped "=", ":" or white space.
func classifyProperties(content, section, key string) classified {
	var c classified
	if content == "" {
		return c
	}
	c.lines = strings.Split(strings.TrimSuffix(content, "\n"), "\n")
	c.match = make([]bool, len(c.lines))
	for i := 0; i < len(c.lines); i++ {
		text := strings.TrimLeft(strings.TrimSuffix(c.lines[i], "\r"), " \t\f")
		if text == "" || text[0] == '#' || text[0] == '!' {
			continue
		}
		first := i
		var logical []byte
		for {
			n := 0
			for j := len(text) - 1; j >= 0 && text[j] == '\\'; j-- {
				n++
			}
			if n%2 == 0 {
				logical = append(logical, text...)
				break
			}
			logical = append(logical, text[:len(text)-1]...)
			if i+1 >= len(c.lines) {
				break
			}
			i++
			text = strings.TrimLeft(strings.TrimSuffix(c.lines[i], "\r"), " \t\f")
			if text == "" {
				break
			}
		}
		var k []uint16
		for j := 0; j < len(logical); j++ {
			ch := logical[j]
			if ch == '=' || ch == ':' || ch == ' ' || ch == '\t' || ch == '\f' {
				break
			}
			if ch == '\\' && j+1 < len(logical) {
				j++
				ch = logical[j]
				switch ch {
				case 't':
					ch = '\t'
				case 'n':
					ch = '\n'
				case 'r':
					ch = '\r'
				case 'f':
					ch = '\f'
				case 'u':
					if v, err := strconv.ParseUint(string(logical[j+1:min(j+5, len(logical))]), 16, 16); err == nil && j+5 <= len(logical) {
						k = append(k, uint16(v))
						j += 4
						continue
					}
				}
			}
			k = append(k, utf16.Encode([]rune(string(rune(ch))))...)
		}
		if section == "" && string(utf16.Decode(k)) == key && key != "" {
			for j := first; j <= i; j++ {
				c.match[j] = true
				c.matches = append(c.matches, c.lines[j])
			}
		}
	}
	return c
}
