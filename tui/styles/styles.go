// Package styles is the TUI's one place for looks: every page and component takes its
// colours and emphasis from a Styles value, so a theme change, a light terminal or
// NO_COLOR is handled once. Colours are downsampled (or dropped, under NO_COLOR) by the
// terminal renderer; meaning never rests on colour alone: every state also has a word
// or a symbol.
package styles

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Styles holds every style the TUI uses.
type Styles struct {
	// Title is a page's heading; Subtle is secondary text; Faint is for what cannot be
	// chosen (a host that does not meet a role's requirements).
	Title, Subtle, Faint lipgloss.Style
	// Selected marks the cursor row; Match highlights fuzzy-matched characters.
	Selected, Match lipgloss.Style
	// Pass, Fail, Warn and Wait colour check states and host states.
	Pass, Fail, Warn, Wait lipgloss.Style
	// Key and Help are for the help bar.
	Key, Help lipgloss.Style
	// Box frames panels; Modal frames questions that need an answer.
	Box, Modal lipgloss.Style
	// Bar is the status line at the top of a page.
	Bar lipgloss.Style
	// Override marks anything an operator accepted despite a failed check.
	Override lipgloss.Style
	// Lab marks the practice lab's stand-ins for real vendor actions.
	Lab lipgloss.Style
	// Dark reports whether the styles were made for a dark background.
	Dark bool
}

// New returns the styles for a dark or light terminal background.
func New(dark bool) Styles {
	ld := lipgloss.LightDark(dark)
	accent := ld(lipgloss.Color("#5A56E0"), lipgloss.Color("#8B87FF"))
	subtle := ld(lipgloss.Color("#6B6B6B"), lipgloss.Color("#9A9A9A"))
	faint := ld(lipgloss.Color("#A8A8A8"), lipgloss.Color("#5C5C5C"))
	green := ld(lipgloss.Color("#1A7F37"), lipgloss.Color("#3FB950"))
	red := ld(lipgloss.Color("#CF222E"), lipgloss.Color("#F85149"))
	amber := ld(lipgloss.Color("#9A6700"), lipgloss.Color("#D29922"))
	blue := ld(lipgloss.Color("#0969DA"), lipgloss.Color("#58A6FF"))
	return Styles{
		Title:    lipgloss.NewStyle().Bold(true).Foreground(accent),
		Subtle:   lipgloss.NewStyle().Foreground(subtle),
		Faint:    lipgloss.NewStyle().Foreground(faint),
		Selected: lipgloss.NewStyle().Bold(true).Reverse(true),
		Match:    lipgloss.NewStyle().Underline(true).Bold(true).Foreground(accent),
		Pass:     lipgloss.NewStyle().Foreground(green),
		Fail:     lipgloss.NewStyle().Bold(true).Foreground(red),
		Warn:     lipgloss.NewStyle().Foreground(amber),
		Wait:     lipgloss.NewStyle().Foreground(blue),
		Key:      lipgloss.NewStyle().Bold(true),
		Help:     lipgloss.NewStyle().Foreground(subtle),
		Box:      lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(faint).Padding(0, 1),
		Modal:    lipgloss.NewStyle().Border(lipgloss.DoubleBorder()).BorderForeground(accent).Padding(0, 1),
		Bar:      lipgloss.NewStyle().Bold(true).Foreground(ld(lipgloss.Color("#FFFFFF"), lipgloss.Color("#000000"))).Background(accent).Padding(0, 1),
		Override: lipgloss.NewStyle().Bold(true).Foreground(amber),
		Lab:      lipgloss.NewStyle().Italic(true).Foreground(amber),
		Dark:     dark,
	}
}

// Accent is the colour of titles, for components that take a colour.
func (s Styles) Accent() color.Color { return s.Title.GetForeground() }
