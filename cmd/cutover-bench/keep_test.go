package main

import "testing"

// The wizard's section of BENCHMARKS.md outlives a new report: it is found where it
// stands, last or between others, and nothing else comes with it.
func TestKeptSectionKeepsTheWizardsFigures(t *testing.T) {
	section := wizardHeading + "\n\n| case | ms/frame |\n| --- | --- |\n| scroll | 0.50 |\n"
	for _, md := range []string{
		"# Benchmarks\n\n## Notes\n\n- a note\n\n" + section,
		"# Benchmarks\n\n" + section + "\n## Notes\n\n- a note\n",
	} {
		if got := keptSection(md, wizardHeading); got != "\n"+section {
			t.Errorf("keptSection of\n%s\n= %q, want %q", md, got, "\n"+section)
		}
	}
	if got := keptSection("# Benchmarks\n\n## Notes\n", wizardHeading); got != "" {
		t.Errorf("a report without the section keeps %q", got)
	}
}

// Every section measured by go test -bench outlives a new report, each once.
func TestKeptSectionsAreEachKept(t *testing.T) {
	md := "# Benchmarks\n\n## Notes\n\n- a note\n"
	for _, h := range keptHeadings {
		md += "\n" + h + "\n\nfigures of " + h + "\n"
	}
	for _, h := range keptHeadings {
		if got, want := keptSection(md, h), "\n"+h+"\n\nfigures of "+h+"\n"; got != want {
			t.Errorf("keptSection(%q) = %q, want %q", h, got, want)
		}
	}
}
