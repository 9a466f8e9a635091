package tui

import (
	"fmt"
	"strings"

	"charm.land/glamour/v2"
)

// mdCache keeps the rendered text of one step: Markdown rendering is far too slow to
// repeat on every frame.
type mdCache struct {
	key, out string
}

// Under NO_COLOR the same style is used: the terminal renderer drops its colours and
// keeps bold and italics, which read better than the plain style's literal asterisks.
func (c *mdCache) render(id, text string, w int, dark bool) string {
	k := fmt.Sprintf("%s/%d/%t", id, w, dark)
	if c.key == k {
		return c.out
	}
	style := "light"
	if dark {
		style = "dark"
	}
	out := text
	if r, err := glamour.NewTermRenderer(glamour.WithStandardStyle(style), glamour.WithWordWrap(max(w-4, 20))); err == nil {
		if s, err := r.Render(keepHyphens(joinSoftBreaks(text))); err == nil {
			out = strings.ReplaceAll(strings.Trim(s, "\n"), keptHyphen, "-")
		}
	}
	c.key, c.out = k, out
	return out
}

// joinSoftBreaks joins the lines of a paragraph or list item that were wrapped in the
// runbook's source, so the renderer wraps them to the terminal's width instead of
// keeping the source's breaks.
func joinSoftBreaks(md string) string {
	lines := strings.Split(md, "\n")
	var out []string
	fence := false
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") {
			fence = !fence
			out = append(out, l)
			continue
		}
		starts := t == "" || fence || strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") ||
			strings.HasPrefix(t, "#") || strings.HasPrefix(t, ">") || strings.HasPrefix(t, "|") || isNumbered(t)
		if !starts && len(out) > 0 && strings.TrimSpace(out[len(out)-1]) != "" {
			out[len(out)-1] += " " + t
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func isNumbered(t string) bool {
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	return i > 0 && i < len(t) && (t[i] == '.' || t[i] == ')')
}

// keepHyphens puts keptHyphen in place of the hyphens of the text, so the renderer's
// wrapping (which breaks at every hyphen) keeps "maestro-setup" and "--components"
// whole; the hyphens that are Markdown stay: a list item's marker, and the lines of
// rules and table delimiters. The caller puts the hyphens back.
func keepHyphens(md string) string {
	lines := strings.Split(md, "\n")
	for i, l := range lines {
		t := strings.TrimLeft(l, " \t")
		if strings.Trim(t, "-:| \t") == "" {
			continue // a rule, a setext underline or a table's delimiter row
		}
		lead := l[:len(l)-len(t)]
		if rest, ok := strings.CutPrefix(t, "- "); ok {
			lead, t = lead+"- ", rest
		}
		lines[i] = lead + strings.ReplaceAll(t, "-", keptHyphen)
	}
	return strings.Join(lines, "\n")
}
