package tui

import "charm.land/bubbles/v2/key"

// KeyMap is the one keymap of the wizard. Pages pick the bindings that apply to them
// for their help, and every key an operator can press is in the help bar. No binding
// needs a mouse or a function key.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Open, Back, Tab                         key.Binding
	Help, Quit, ForceQuit                   key.Binding

	// Home: the runbook filter takes letters, so its list moves with the arrows only.
	ListUp, ListDown, Refresh, Filter, ClearFilter key.Binding
	// Setup.
	Choose, Continue, Save key.Binding
	// Plan review.
	Start key.Binding
	// Resume offer.
	Resume, NewRun key.Binding
	// Step: answers to the engine's prompts.
	Confirm, Command, Skip, Retry, Override, Evidence, Abort, Accept, Rerun key.Binding
	Yes, No                                                                 key.Binding
	// Steps moves the keys to the step list and back.
	Steps key.Binding
	// StepMode turns step mode on and off (plan review, step screen): the run stops
	// before each automatic action until y, as --step does headless.
	StepMode key.Binding
	// Text fields.
	Submit, Cancel key.Binding
	// Summary.
	Export, Home key.Binding
}

// DefaultKeyMap returns the bindings.
func DefaultKeyMap() KeyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return KeyMap{
		Up:       b("↑/k", "up", "up", "k"),
		Down:     b("↓/j", "down", "down", "j"),
		PageUp:   b("pgup", "page up", "pgup", "ctrl+u"),
		PageDown: b("pgdn", "page down", "pgdown", "ctrl+d"),
		Top:      b("g", "top", "home", "g"),
		Bottom:   b("G", "bottom", "end", "G"),
		Open:     b("enter", "open", "enter"),
		Back:     b("esc", "back", "esc"),
		Tab:      b("tab", "switch list", "tab"),
		Help:     b("?", "all keys", "?"),
		Quit:     b("q", "quit", "q"),
		// ctrl+c is always live, even in a text field: during a run it asks first, like q,
		// and a second ctrl+c answers yes.
		ForceQuit: b("ctrl+c", "quit", "ctrl+c"),

		ListUp:      b("↑", "up", "up", "ctrl+p"),
		ListDown:    b("↓", "down", "down", "ctrl+n"),
		Refresh:     b("ctrl+r", "probe again", "ctrl+r"),
		Filter:      b("type", "filter runbooks", ""),
		ClearFilter: b("esc", "clear filter", "esc"),

		Choose:   b("enter", "choose host", "enter"),
		Continue: b("n", "next: parameters", "n"),
		Save:     b("ctrl+s", "save run file", "ctrl+s"),
		Start:    b("s", "start the run", "s"),

		Resume: b("r", "resume it", "r"),
		NewRun: b("n", "start a new run", "n"),

		Confirm:  b("enter", "confirm", "enter"),
		Command:  b("c", "do it by command", "c"),
		Skip:     b("s", "skip (reason)", "s"),
		Retry:    b("r", "retry checks", "r"),
		Override: b("o", "override (reason)", "o"),
		Evidence: b("e", "evidence", "e"),
		Abort:    b("a", "abort run", "a"),
		Accept:   b("y", "accept: it happened", "y"),
		Rerun:    b("R", "run it again", "R"),
		Yes:      b("y", "yes", "y"),
		Steps:    b("tab", "step list", "tab"),
		StepMode: b("t", "step mode: ask before each action", "t"),
		No:       b("n", "no", "n", "esc"),

		Submit: b("enter", "submit", "enter"),
		Cancel: b("esc", "cancel", "esc"),

		Export: b("x", "export checklist", "x"),
		Home:   b("esc", "home", "esc"),
	}
}

// scrollKeys are the bindings of anything that scrolls.
func (k KeyMap) scrollKeys() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
}
