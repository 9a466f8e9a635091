// Package hosttext makes text that cutover did not write itself (what a host sends:
// command output, host names, INI values, file names, a lock file's fields; what a
// journal holds) safe to put on a terminal, in a log or in a JSON line. A terminal acts
// on control characters: ESC starts sequences that move the cursor, clear the screen,
// set the window title or answer back; a carriage return overwrites the line; C1 codes
// (U+0080-U+009F) are escape sequences of their own on some terminals; bidirectional
// overrides reorder what is shown. Text from a host goes through Line or Text before it
// is shown, so a host can neither forge a line of cutover's output nor act on the
// operator's terminal.
//
// Nothing is dropped silently: each such character is shown as a visible escape (\x1b,
// \r, \u202e), so the operator sees that a host sent it. Tabs are kept as data.
package hosttext

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Line returns s as one line of text that is safe to print: every control character,
// newline and carriage return included, becomes a visible escape, so the text can
// neither start a new line nor act on the terminal. Tabs are kept.
func Line(s string) string {
	if clean(s, false) {
		return s
	}
	return escape(s, false)
}

// Field is Line for a value shown in a column of a table (a host name, an OS name, a
// lock's operator): a tab is shown as \t too, so it cannot shift the columns.
func Field(s string) string {
	return strings.ReplaceAll(Line(s), "\t", `\t`)
}

// Text is Line for text of several lines (a command's whole output): newlines are kept
// as the data's line breaks, and a carriage return that ends a line (a Windows host's
// "\r\n") is dropped; any other carriage return is shown as \r.
func Text(s string) string {
	if clean(s, true) {
		return s
	}
	return escape(s, true)
}

// Lines applies Line to every element of l, returning a new slice only when one changes.
func Lines(l []string) []string {
	var out []string
	for i, s := range l {
		if c := Line(s); c != s {
			if out == nil {
				out = append([]string(nil), l...)
			}
			out[i] = c
		}
	}
	if out == nil {
		return l
	}
	return out
}

// clean reports whether s holds nothing Line (or Text, when keepNewlines) would change.
func clean(s string, keepNewlines bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\t', c == '\n' && keepNewlines:
		case c < 0x20, c == 0x7f:
			return false
		case c >= 0x80:
			// Only a few code points above ASCII need escaping: decode the rest of s.
			for _, r := range s[i:] {
				if r == utf8.RuneError || dangerous(r) || r < 0x20 && r != '\t' && (r != '\n' || !keepNewlines) || r == 0x7f {
					return false
				}
			}
			return true
		}
	}
	return true
}

// dangerous reports whether r, above ASCII, must not reach a terminal as it is: the C1
// controls, the bidirectional controls that reorder text as shown (the "Trojan Source"
// set), and the line and paragraph separators that some programs break lines at.
func dangerous(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f: // Arabic letter mark, LRM, RLM
		return true
	case r >= 0x202a && r <= 0x202e: // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// markdownEscaped are the characters that start inline Markdown anywhere in a line
// (GitHub flavour): emphasis, code, links and images, HTML and autolinks, entities,
// strikethrough, maths. Characters that matter only at the start of a line (#, -, +,
// 1., >, a table's |) need no escape: text made safe by Line never starts a line.
const markdownEscaped = "\\`*_[]<&~$"

// Markdown is Line for text placed inside a line of Markdown (a checklist, the operator
// text of a step): every character that could start Markdown is escaped with a
// backslash, so the text renders as written and cannot become a link, an image, HTML
// or emphasis. Where Markdown reads a character as text anyway it is left alone, to
// keep the source readable: an underscore inside a word (hub_host), a backslash before
// a letter or digit (\berror\b), an ampersand that cannot start an entity (a && b).
func Markdown(s string) string {
	s = Line(s)
	if !strings.ContainsAny(s, markdownEscaped) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(markdownEscaped, c) >= 0 {
			switch {
			case c == '_' && i > 0 && i+1 < len(s) && wordByte(s[i-1]) && wordByte(s[i+1]):
			case c == '\\' && i+1 < len(s) && wordByte(s[i+1]):
			case c == '&' && (i+1 == len(s) || !wordByte(s[i+1]) && s[i+1] != '#'):
			default:
				b.WriteByte('\\')
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// wordByte reports whether c is an ASCII letter or digit.
func wordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// shortEscapes are the C0 controls with a conventional one-letter escape.
var shortEscapes = map[byte]string{'\a': `\a`, '\b': `\b`, '\f': `\f`, '\n': `\n`, '\r': `\r`, '\v': `\v`}

func escape(s string, keepNewlines bool) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\t', c >= 0x20 && c != 0x7f, c == '\n' && keepNewlines:
				b.WriteByte(c)
			case c == '\r' && keepNewlines && i+1 < len(s) && s[i+1] == '\n':
				// A Windows line end: the line break is the data, the \r is not.
			case c == 0x7f:
				// \u form, not \x: a JSON string may hold a raw DEL, and \u007f is
				// still the same JSON string after this escaping.
				b.WriteString(`\u007f`)
			default:
				if e, ok := shortEscapes[c]; ok {
					b.WriteString(e)
				} else {
					fmt.Fprintf(&b, `\x%02x`, c)
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			// Not UTF-8: a lone byte 0x9b is a CSI on an 8-bit terminal.
			fmt.Fprintf(&b, `\x%02x`, c)
		case dangerous(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Writer passes what is written to it through Text before it reaches the underlying
// writer: a last line of defence for a command's standard output and error, so that no
// path that forgot Line can put a raw escape sequence on the operator's terminal. (It
// cannot tell a newline in a host's data from one of cutover's own: that is Line's
// job, where the data is formatted.) JSON written through it stays valid JSON with the
// same content: the escapes it adds are JSON escapes where JSON allows the raw
// character.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte // the start of a rune, or a "\r", whose end is in the next write
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write neutralises p and writes it. It reports len(p) on success, as callers expect
// of an io.Writer, although the bytes written may be more.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := p
	if len(w.pending) > 0 {
		data = append(w.pending, p...)
		w.pending = nil
	}
	cut := len(data) - incompleteTail(data)
	if cut < len(data) {
		w.pending = append([]byte(nil), data[cut:]...)
		data = data[:cut]
	}
	if len(data) == 0 {
		return len(p), nil
	}
	out := data
	if s := string(data); !clean(s, true) {
		out = []byte(escape(s, true))
	}
	if _, err := w.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what Write held back (an incomplete rune or a final "\r"), escaped.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		return nil
	}
	s := escape(string(w.pending), false)
	w.pending = nil
	_, err := io.WriteString(w.w, s)
	return err
}

// incompleteTail is the length of the end of p that may still change meaning with the
// next write: a final "\r" (a "\r\n" split across writes) or the first bytes of a
// multi-byte rune.
func incompleteTail(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	if p[len(p)-1] == '\r' {
		return 1
	}
	// A rune is at most 4 bytes: look back at most 3 for the start of one.
	for n := 1; n <= 3 && n <= len(p); n++ {
		c := p[len(p)-n]
		if c < utf8.RuneSelf {
			return 0
		}
		if utf8.RuneStart(c) {
			if utf8.FullRune(p[len(p)-n:]) {
				return 0
			}
			return n
		}
	}
	return 0
}
