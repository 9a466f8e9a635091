package export

import (
	"strings"

	"github.com/cutover/cutover/probe/hosttext"
)

// A checklist goes into a change ticket, where Markdown is rendered: text that came
// from a host, a journal or an inventory must not become a link, an image, HTML, a
// ticked box or a line of its own there. These helpers are the only way such text
// enters a checklist.

// text makes s safe as inline Markdown text (hosttext.Markdown). The placeholder of a
// secret is cutover's own and stays as it is, to keep the checklist readable.
func text(s string) string {
	parts := strings.Split(s, secretPlaceholder)
	for i, p := range parts {
		parts[i] = hosttext.Markdown(p)
	}
	return strings.Join(parts, secretPlaceholder)
}

// cell is text for a cell of a table, where | would end the cell.
func cell(s string) string { return strings.ReplaceAll(text(s), "|", `\|`) }

// secretPlaceholder stands for a secret's value (steps writes it).
const secretPlaceholder = "[secret]"

// label is text for a description cutover wrote around values, such as a check's
// "on hub, `cat x` exits 0": what it puts in backticks becomes a code span, the rest
// text. A value with a backtick of its own may split it elsewhere than meant; every
// part is still escaped as what it becomes, so that changes how it looks, never what
// it does.
func label(s string) string {
	if !strings.Contains(s, "`") {
		return text(s)
	}
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		switch {
		case i%2 == 0:
			b.WriteString(text(p))
		case i == len(parts)-1:
			// An opening backtick without its closing one.
			b.WriteString(text("`" + p))
		default:
			b.WriteString(code(p))
		}
	}
	return b.String()
}

// code makes s an inline code span that shows s as written: delimited by more
// backticks than any run of them in s, so nothing in s can close it.
func code(s string) string {
	s = hosttext.Line(s)
	delim := strings.Repeat("`", backticks(s)+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		// A space on both sides is stripped by the renderer, and keeps a backtick at the
		// edge from joining the delimiter.
		s = " " + s + " "
	}
	return delim + s + delim
}

// fenceFor returns a code fence longer than any run of backticks in lines, so no line
// can close the block early.
func fenceFor(lines []string) string {
	return strings.Repeat("`", max(3, backticks(lines...)+1))
}

// backticks is the length of the longest run of backticks in any of ss.
func backticks(ss ...string) int {
	longest := 0
	for _, s := range ss {
		run := 0
		for i := 0; i < len(s); i++ {
			if s[i] == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return longest
}
