package ini

import "strings"

// Sections lists the file's section names in the order they first appear, spelled as
// first written (sections compare without regard to case, as in Get); keys before any
// header belong to "", listed when it has any.
func (f *File) Sections() []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range f.lines {
		if (l.key != "" || l.header) && !seen[strings.ToLower(l.section)] {
			seen[strings.ToLower(l.section)] = true
			out = append(out, l.section)
		}
	}
	return out
}
