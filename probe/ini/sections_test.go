package ini

import (
	"slices"
	"testing"
)

func TestSections(t *testing.T) {
	f := Parse([]byte("; top\nA=1\n[Special]\nVersion=23.5.1\n[Directories]\nUsers=C:\\MDaemon\\Users\n[special]\nX=2\n"))
	if got := f.Sections(); !slices.Equal(got, []string{"", "Special", "Directories"}) {
		t.Errorf("Sections = %q", got)
	}
	if got := Parse([]byte("[Only]\nK=v\n")).Sections(); !slices.Equal(got, []string{"Only"}) {
		t.Errorf("Sections without top-level keys = %q", got)
	}
}
