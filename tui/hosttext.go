package tui

// Text the wizard did not write itself: what a host sends (command output, host names,
// INI values, file names, a lock's fields, the errors that carry them), what a journal
// holds (it may come from another machine), what a run file or an inventory says. Each
// of them goes through sanitize (or sanitizeErr) where it is put on the screen, so it
// shows as written, with its control characters as visible escapes (\x1b, \r, \u202e),
// and can neither move the cursor, clear the screen, set the clipboard, add a link nor
// reorder what is shown. screenSafe then checks the whole frame: a path that forgot
// sanitize still cannot reach the terminal with a control sequence.

import (
	"strings"

	"github.com/cutover/cutover/probe/hosttext"
)

// sanitize makes one line of foreign text safe to draw: escape sequences and control
// characters (newlines included) shown as visible escapes (hosttext.Line, as in every
// other output of cutover), tabs expanded to the next multiple of eight columns.
func sanitize(s string) string {
	s = hosttext.Line(s)
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		if r == '\t' {
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(r)
		col++
	}
	return b.String()
}

// sanitizeErr is an error's message made safe to draw: errors carry what hosts said
// (an SSH server's banner, a file name, a lock's holder).
func sanitizeErr(err error) string {
	if err == nil {
		return ""
	}
	return sanitize(err.Error())
}

// sanitizeAll applies sanitize to every element of l, into a new slice.
func sanitizeAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = sanitize(s)
	}
	return out
}

// screenSafe is the last check of a frame before the terminal gets it: the wizard's
// own styling (SGR sequences: colour, bold, reverse video) and its line breaks pass;
// OSC 8 hyperlinks are dropped (the Markdown renderer makes them of a runbook's links,
// and prints each link's address as text beside it anyway); every other control
// sequence or character, and the bidirectional overrides, are shown as visible escapes
// (hosttext.Line). Text sanitised where it was put on the screen passes unchanged.
func screenSafe(frame string) string {
	var b strings.Builder
	changed := false
	rest := frame
	for len(rest) > 0 {
		i := strings.IndexByte(rest, '\x1b')
		if i != 0 {
			if i < 0 {
				i = len(rest)
			}
			text := rest[:i]
			safe := safeText(text)
			changed = changed || safe != text
			b.WriteString(safe)
			rest = rest[i:]
			continue
		}
		if n := sgrLen(rest); n > 0 {
			b.WriteString(rest[:n])
			rest = rest[n:]
			continue
		}
		changed = true
		if n := hyperlinkLen(rest); n > 0 {
			rest = rest[n:]
			continue
		}
		b.WriteString(`\x1b`)
		rest = rest[1:]
	}
	if !changed {
		return frame
	}
	return b.String()
}

// safeText is hosttext.Line for each line of text without escape sequences.
func safeText(s string) string {
	if !strings.Contains(s, "\n") {
		return hosttext.Line(s)
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = hosttext.Line(l)
	}
	return strings.Join(lines, "\n")
}

// sgrLen is the length of the SGR sequence (ESC [ params m) that s starts with, or 0.
// Only the 7-bit form: a lone C1 CSI (0x9b) is never the wizard's.
func sgrLen(s string) int {
	if len(s) < 3 || s[0] != '\x1b' || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == ';', c == ':':
		case c == 'm':
			return i + 1
		default:
			return 0
		}
	}
	return 0
}

// hyperlinkLen is the length of the OSC 8 hyperlink sequence (ESC ] 8 ; params ; URI,
// ended by BEL or ESC \) that s starts with, or 0. A URI with a control character in
// it is not one: the sequence is then escaped, not dropped.
func hyperlinkLen(s string) int {
	if !strings.HasPrefix(s, "\x1b]8;") {
		return 0
	}
	for i := 4; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\a':
			return i + 1
		case c == '\x1b':
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return 0
		case c < 0x20 || c == 0x7f:
			return 0
		}
	}
	return 0
}
