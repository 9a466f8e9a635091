package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/cutover/cutover/tui/styles"
)

// helpBar renders bindings as "key what • key what", wrapped onto as many lines as the
// width needs: a key that works is never cut off the end of the bar.
func helpBar(st styles.Styles, w int, bs []key.Binding) []string {
	const sep = " • "
	var lines []string
	var cur strings.Builder
	curW := 0
	seen := map[string]bool{}
	for _, b := range bs {
		h := b.Help()
		if !b.Enabled() || h.Key == "" || seen[h.Key+h.Desc] {
			continue
		}
		seen[h.Key+h.Desc] = true
		item := st.Key.Render(h.Key) + " " + st.Help.Render(h.Desc)
		iw := lipgloss.Width(h.Key) + 1 + lipgloss.Width(h.Desc)
		switch {
		case curW == 0:
		case curW+len(sep)+iw <= w:
			cur.WriteString(st.Help.Render(sep))
			curW += len(sep)
		default:
			lines = append(lines, cur.String())
			cur.Reset()
			curW = 0
		}
		cur.WriteString(item)
		curW += iw
	}
	if curW > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// fullHelp renders groups of bindings, each group starting a new line.
func fullHelp(st styles.Styles, w int, groups [][]key.Binding) []string {
	var out []string
	for _, g := range groups {
		out = append(out, helpBar(st, w, g)...)
	}
	return out
}
