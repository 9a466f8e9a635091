package tui

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cutover/cutover/steps"
)

// maxLines bounds what a scrollView keeps: the oldest lines of an endless output go
// first (the journal keeps the last lines of every command anyway).
const maxLines = 50_000

// scrollView shows a list of lines through a window. Only the visible rows are
// rendered, so its cost does not depend on how many lines it holds: a command that
// prints 100,000 lines costs a frame no more than one that prints ten. While follow is
// set (it is until the operator scrolls up), the window sticks to the newest line.
type scrollView struct {
	lines   []string
	top     int
	height  int // rows shown in the last View, for paging
	follow  bool
	dropped int // lines discarded from the front
}

func newScrollView(follow bool) *scrollView { return &scrollView{follow: follow} }

// SetLines replaces the content with lines that are already styled by the wizard.
func (s *scrollView) SetLines(lines []string) {
	s.lines = lines
	s.dropped = 0
	s.clamp()
}

// AppendOutput adds lines of foreign text (command output from a host): escape
// sequences and control characters are made visible, so no host can write to the
// operator's terminal, and tabs become spaces.
func (s *scrollView) AppendOutput(lines ...string) {
	for _, l := range lines {
		s.lines = append(s.lines, sanitize(l))
	}
	if n := len(s.lines) - maxLines; n > 0 {
		// Drop a chunk at a time so trimming stays cheap per line.
		n += maxLines / 10
		s.lines = append(s.lines[:0:0], s.lines[n:]...)
		s.dropped += n
		s.top = max(s.top-n, 0)
	}
	s.clamp()
}

// Len is the number of lines held.
func (s *scrollView) Len() int { return len(s.lines) }

// Lines returns the lines held (not to be changed).
func (s *scrollView) Lines() []string { return s.lines }

func (s *scrollView) maxTop() int { return max(len(s.lines)-max(s.height, 1), 0) }

func (s *scrollView) clamp() {
	if s.follow {
		s.top = s.maxTop()
		return
	}
	s.top = min(max(s.top, 0), s.maxTop())
}

// Scroll moves the window by n lines (negative: up).
func (s *scrollView) Scroll(n int) {
	s.top += n
	s.follow = false
	s.clamp()
	s.follow = s.top >= s.maxTop()
}

// GotoTop and GotoBottom jump to either end; the bottom follows new lines again.
func (s *scrollView) GotoTop() { s.follow = false; s.top = 0 }

func (s *scrollView) GotoBottom() { s.follow = true; s.clamp() }

// AtBottom reports whether the newest line is in view.
func (s *scrollView) AtBottom() bool { return s.top >= s.maxTop() }

// Key scrolls for the keymap's scroll keys, reporting whether it used the key.
func (s *scrollView) Key(k KeyMap, msg tea.KeyPressMsg) bool {
	page := max(s.height-1, 1)
	switch {
	case key.Matches(msg, k.Up):
		s.Scroll(-1)
	case key.Matches(msg, k.Down):
		s.Scroll(1)
	case key.Matches(msg, k.PageUp):
		s.Scroll(-page)
	case key.Matches(msg, k.PageDown):
		s.Scroll(page)
	case key.Matches(msg, k.Top):
		s.GotoTop()
	case key.Matches(msg, k.Bottom):
		s.GotoBottom()
	default:
		return false
	}
	return true
}

// Position says where the window is, for a heading: "lines 120-140 of 10000".
func (s *scrollView) Position() string {
	if len(s.lines) <= s.height {
		return steps.Plural(len(s.lines), "line", "lines")
	}
	last := min(s.top+s.height, len(s.lines))
	pos := "lines " + strconv.Itoa(s.dropped+s.top+1) + "-" + strconv.Itoa(s.dropped+last) + " of " + strconv.Itoa(s.dropped+len(s.lines))
	if s.follow {
		pos += ", following"
	}
	return pos
}

// View renders h rows of at most w cells.
func (s *scrollView) View(w, h int) string {
	if h <= 0 {
		return ""
	}
	s.height = h
	s.clamp()
	end := min(s.top+h, len(s.lines))
	var b strings.Builder
	for i := s.top; i < end; i++ {
		if i > s.top {
			b.WriteByte('\n')
		}
		b.WriteString(truncate(s.lines[i], w))
	}
	return b.String()
}
