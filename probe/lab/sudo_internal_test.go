package lab

import (
	"slices"
	"testing"
)

// TestSplitWords: the simulated sudo reads the words a POSIX shell would, and refuses a
// line that needs a shell rather than guess.
func TestSplitWords(t *testing.T) {
	got, err := splitWords(`sudo -S -p '[p] x: ' -u maestro -- /bin/sh -c 'echo m >&2 && exec /bin/sh -c "$1"' cutover-become 'it'\''s' a\ b "q"`)
	want := []string{"sudo", "-S", "-p", "[p] x: ", "-u", "maestro", "--", "/bin/sh", "-c", `echo m >&2 && exec /bin/sh -c "$1"`, "cutover-become", "it's", "a b", "q"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("splitWords = %q, %v\nwant %q", got, err, want)
	}
	for _, bad := range []string{"sudo true; rm x", "sudo $(id)", "sudo 'open", `sudo "$HOME"`, "sudo a\nb", "sudo `id`", "sudo x > y"} {
		if _, err := splitWords(bad); err == nil {
			t.Errorf("splitWords(%q) took a line that needs a shell", bad)
		}
	}
}
