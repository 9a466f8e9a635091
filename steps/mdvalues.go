package steps

import (
	"strings"

	"github.com/cutover/cutover/probe/hosttext"
)

// markdownValues escapes the values of a step's operator text, which is Markdown, for
// where each goes in it: plain text escapes Markdown (no link, image, HTML or ticked
// box can come from a value), a table row escapes | too, and inside a code span or a
// fenced block, where backslashes are shown as they are, a value is kept to one line
// and its backticks are shown as ˋ (U+02CB), so it cannot close the code early. Every
// value has its secrets removed first. It follows the text a line at a time, as the
// author writes it: fences open and close at the start of a line, code spans close on
// the line they open.
type markdownValues struct {
	redact  func(string) string
	line    strings.Builder // the current line so far
	fence   string          // the open fence (``` or ~~~...), if any
	code    int             // the backtick run that opened the current code span, 0 outside one
	inTable bool
}

// Text follows the runbook's own text.
func (m *markdownValues) Text(s string) {
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			m.add(s)
			return
		}
		m.add(s[:i])
		m.endLine()
		s = s[i+1:]
	}
}

// add follows text within the current line.
func (m *markdownValues) add(s string) {
	if m.line.Len() == 0 || strings.TrimSpace(m.line.String()) == "" {
		// The start of the line decides fences and tables.
		lead := strings.TrimLeft(m.line.String()+s, " \t")
		switch {
		case m.fence != "" && strings.HasPrefix(lead, m.fence):
			m.fence = "" // closes when the line ends; nothing after it matters
		case m.fence == "" && (strings.HasPrefix(lead, "```") || strings.HasPrefix(lead, "~~~")):
			m.fence = lead[:len(lead)-len(strings.TrimLeft(lead, lead[:1]))]
		case m.fence == "" && strings.HasPrefix(lead, "|"):
			m.inTable = true
		}
	}
	if m.fence == "" {
		for i := 0; i < len(s); {
			if s[i] != '`' {
				i++
				continue
			}
			n := len(s[i:]) - len(strings.TrimLeft(s[i:], "`"))
			switch {
			case m.code == 0:
				m.code = n
			case m.code == n:
				m.code = 0
			}
			i += n
		}
	}
	m.line.WriteString(s)
}

func (m *markdownValues) endLine() {
	m.line.Reset()
	m.code, m.inTable = 0, false
}

// Value escapes v for where the text so far has got to.
func (m *markdownValues) Value(v string) string {
	v = m.redact(v)
	var out string
	if m.fence != "" || m.code > 0 {
		out = strings.ReplaceAll(hosttext.Line(v), "`", "ˋ")
	} else {
		out = hosttext.Markdown(v)
		if m.inTable {
			out = strings.ReplaceAll(out, "|", `\|`)
		}
		if strings.TrimSpace(m.line.String()) == "" {
			out = escapeLineStart(out)
		}
	}
	m.line.WriteString(out)
	return out
}

// escapeLineStart escapes what would make a line that starts with s a heading, a list
// item, a quote, a table row or a thematic break.
func escapeLineStart(s string) string {
	lead := len(s) - len(strings.TrimLeft(s, " "))
	rest := s[lead:]
	if rest == "" {
		return s
	}
	if strings.IndexByte("#-+*>|=", rest[0]) >= 0 {
		return s[:lead] + `\` + rest
	}
	digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
	if digits > 0 && digits < len(rest) && (rest[digits] == '.' || rest[digits] == ')') {
		return s[:lead] + rest[:digits] + `\` + rest[digits:]
	}
	return s
}
