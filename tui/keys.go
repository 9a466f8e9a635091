package tui

import "charm.land/bubbles/v2/key"

// KeyMap is the one keymap of the wizard. Pages pick the bindings that apply to them
// for their help, and every key an operator can press is in the help bar.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Open, Back, Next, Tab                   key.Binding
	Help, Quit, ForceQuit                   key.Binding

	// Home.
	Refresh, Filter, ClearFilter key.Binding
	// Setup.
	Save key.Binding
	// Plan review.
	Start key.Binding
	// Step: answers to the engine's prompts.
	Confirm, Skip, Retry, Override, Evidence, Abort, Accept, Rerun key.Binding
	Yes, No                                                        key.Binding
	// Summary.
	Export key.Binding
}

// DefaultKeyMap returns the bindings. No binding needs a mouse or a function key, and
// none uses a letter a text field would swallow without the field having focus.
func DefaultKeyMap() KeyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return KeyMap{
		Up:       b("↑/k", "up", "up", "k"),
		Down:     b("↓/j", "down", "down", "j"),
		PageUp:   b("pgup", "page up", "pgup", "ctrl+u"),
		PageDown: b("pgdn", "page down", "pgdown", "ctrl+d"),
		Top:      b("home/g", "top", "home", "g"),
		Bottom:   b("end/G", "bottom", "end", "G"),
		Open:     b("enter", "open", "enter"),
		Back:     b("esc", "back", "esc"),
		Next:     b("enter", "next", "enter"),
		Tab:      b("tab", "switch pane", "tab"),
		Help:     b("?", "more keys", "?"),
		Quit:     b("q", "quit", "q"),
		// ctrl+c is always live: on a run it asks first, like q.
		ForceQuit: b("ctrl+c", "quit", "ctrl+c"),

		Refresh:     b("ctrl+r", "probe again", "ctrl+r"),
		Filter:      b("type", "filter runbooks", ""),
		ClearFilter: b("esc", "clear filter", "esc"),

		Save:  b("ctrl+s", "save run file", "ctrl+s"),
		Start: b("s", "start the run", "s"),

		Confirm:  b("enter", "confirm", "enter"),
		Skip:     b("s", "skip (with reason)", "s"),
		Retry:    b("r", "retry the checks", "r"),
		Override: b("o", "override (with reason)", "o"),
		Evidence: b("e", "evidence in full", "e"),
		Abort:    b("a", "abort the run", "a"),
		Accept:   b("y", "it happened: accept", "y"),
		Rerun:    b("R", "run it again", "R"),
		Yes:      b("y", "yes", "y"),
		No:       b("n", "no", "n", "esc"),

		Export: b("x", "export checklist", "x"),
	}
}
