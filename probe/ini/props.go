package ini

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The Java properties dialect, as java.util.Properties.load reads a file: the rules are
// those of its LineReader and load0, followed step by step so that a value means here
// what it means to Maestro.

// isPropSpace is white space between a key and its value, and before a line's text.
func isPropSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

// parseProperties splits natural lines (without their "\n") into logical lines: a
// comment or blank line, or a definition that may go on over following lines, which
// are marked cont and carry no key.
func parseProperties(natural []string) []line {
	out := make([]line, 0, len(natural))
	for i := 0; i < len(natural); i++ {
		l := line{}
		l.raw, l.cr = strings.CutSuffix(natural[i], "\r")
		text := strings.TrimLeft(l.raw, " \t\f")
		lead := l.raw[:len(l.raw)-len(text)]
		if text == "" || text[0] == '#' || text[0] == '!' {
			// Blank lines and comments; a comment never continues, whatever it ends with.
			out = append(out, l)
			continue
		}
		first := len(out)
		out = append(out, l)
		content := text
		for oddBackslashes(content) {
			content = content[:len(content)-1]
			if i+1 >= len(natural) {
				break // a backslash at the very end of the file is dropped
			}
			i++
			c := line{cont: true}
			c.raw, c.cr = strings.CutSuffix(natural[i], "\r")
			out = append(out, c)
			next := strings.TrimLeft(c.raw, " \t\f")
			content += next
			if next == "" {
				break // a blank line ends the continuation
			}
		}
		key, value, vstart := splitProperty(content)
		d := &out[first]
		d.key, d.value, d.def = unescapeProperty(key), unescapeProperty(value), true
		d.prefix = lead + content[:vstart]
		if vstart == len(key) {
			// Neither a separator nor white space follows the key: writing a value needs one.
			d.prefix += "="
		}
	}
	return out
}

// oddBackslashes reports whether s ends in an odd number of backslashes: the last one
// escapes the line ending, so the definition goes on over the next line.
func oddBackslashes(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitProperty finds, in a logical line without its leading white space, where the
// key ends and where the value starts: the key ends at the first "=", ":" or white
// space not escaped by a backslash; white space, at most one "=" or ":", and white
// space again separate it from the value.
func splitProperty(s string) (key, value string, vstart int) {
	keyLen, vstart := 0, len(s)
	hasSep, escaped := false, false
	for keyLen < len(s) {
		c := s[keyLen]
		if (c == '=' || c == ':') && !escaped {
			vstart, hasSep = keyLen+1, true
			break
		}
		if isPropSpace(c) && !escaped {
			vstart = keyLen + 1
			break
		}
		escaped = c == '\\' && !escaped
		keyLen++
	}
	for vstart < len(s) {
		c := s[vstart]
		if !isPropSpace(c) {
			if !hasSep && (c == '=' || c == ':') {
				hasSep = true
			} else {
				break
			}
		}
		vstart++
	}
	return s[:keyLen], s[vstart:], vstart
}

// unescapeProperty decodes a key or value as Java reads it from a byte stream: every
// byte is one character of ISO-8859-1 (so raw UTF-8 comes back as other characters, as
// it does to Maestro), and backslash escapes are decoded: \t \n \r \f, \uXXXX, and a
// backslash before any other character stands for that character. A malformed \u (Java
// refuses the whole file for it) is kept as the text after the backslash.
func unescapeProperty(s string) string {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = s[i] != '\\' && s[i] < utf8.RuneSelf
	}
	if plain {
		return s
	}
	var units []uint16
	var b strings.Builder
	flush := func() {
		if len(units) > 0 {
			b.WriteString(string(utf16.Decode(units)))
			units = units[:0]
		}
	}
	put := func(c byte) {
		flush()
		b.WriteRune(rune(c))
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			put(c)
			i++
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case 't':
			put('\t')
		case 'n':
			put('\n')
		case 'r':
			put('\r')
		case 'f':
			put('\f')
		case 'u':
			var v uint16
			ok := i+4 <= len(s)
			for j := 0; ok && j < 4; j++ {
				d := hexDigit(s[i+j])
				ok = d >= 0
				v = v<<4 | uint16(d)
			}
			if !ok {
				put('u')
				continue
			}
			// Surrogate pairs arrive as two escapes: they are decoded together.
			units = append(units, v)
			i += 4
		default:
			put(e)
		}
	}
	flush()
	return b.String()
}

func hexDigit(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// escapeProperty writes s so that Java reads back exactly s: a backslash doubled, tabs
// and line breaks as \t \n \r \f, every other character outside printable ASCII as
// \uXXXX (Java reads a properties stream as ISO-8859-1, so raw UTF-8 would come back
// as other characters), and a leading space escaped (and in a value a leading "=" or
// ":", which would read as the separator). In a key, the characters that
// would end it or start a comment ("=", ":", white space, "#", "!") are escaped too.
func escapeProperty(s string, key bool) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == ' ' && (key || i == 0):
			b.WriteString(`\ `)
		case !key && i == 0 && (r == '=' || r == ':'):
			// After a key written with white space alone ("key value"), a first "=" or
			// ":" would be read as the separator and dropped from the value.
			b.WriteByte('\\')
			b.WriteRune(r)
		case key && (r == '=' || r == ':' || r == '#' || r == '!'):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			for _, u := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(&b, `\u%04X`, u)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// dropContinuations removes the lines that continue the definition at i, so it can be
// rewritten as one line (or removed); the definition keeps the line ending its last
// line had.
func (f *File) dropContinuations(i int) {
	j := i + 1
	for j < len(f.lines) && f.lines[j].cont {
		j++
	}
	if j == i+1 {
		return
	}
	f.lines[i].cr = f.lines[j-1].cr
	f.lines = append(f.lines[:i+1], f.lines[j:]...)
}
