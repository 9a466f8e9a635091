package probe

import (
	"strings"
	"testing"
)

// TestShippedComponents: the embedded declarations give the components runbooks name,
// with the dialect each program reads its file with.
func TestShippedComponents(t *testing.T) {
	want := map[string]string{"lui": "properties", "hub": "properties", "trk": "properties", "listmanager": "ini", "cgpro": "", "mdaemon": "ini"}
	if len(Catalogue) != len(want) {
		t.Fatalf("%d shipped components, want %d", len(Catalogue), len(want))
	}
	for _, c := range Catalogue {
		d, ok := want[c.ID]
		if !ok || len(c.Files) == 0 || (d != "" && c.Dialect.String() != d) || (d == "") != (c.Marker == "") {
			t.Errorf("component %+v", c)
		}
	}
}

// TestComponentDeclarationErrors: mistakes are reported at their place, and a path is
// data: it may not leave the install folder.
func TestComponentDeclarationErrors(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown key":   {"components:\n  - id: x\n    file: [a]\n", "c.yaml:3:5: unknown key \"file\""},
		"taken id":      {"components:\n  - id: lui\n    files: [a]\n", "c.yaml:2:5: id lui: a component of that id is declared already"},
		"bad id":        {"components:\n  - id: X Y\n    files: [a]\n", "c.yaml:2:5: id \"X Y\""},
		"nothing marks": {"components:\n  - id: x\n", "give the files that mark it, or its services"},
		"escaping path": {"components:\n  - id: x\n    files: [../../etc/passwd]\n", "must be relative to the install folder"},
		"bad format":    {"components:\n  - id: x\n    files: [a]\n    settings: {file: a, format: toml}\n", "unknown INI format \"toml\""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseComponents("c.yaml", []byte(tc.yaml), Catalogue)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}

// TestSettingsInSections: keys inside sections are SECTION.KEY; facts keep the keys
// named (without regard to case in an INI file); a required key that is missing means
// the component is not there.
func TestSettingsInSections(t *testing.T) {
	m := "@@cutover-x"
	comps, err := ParseComponents("c.yaml", []byte("components:\n  - id: app\n    files: [app.ini]\n    settings: {file: app.ini, facts: [main.version], require: [Main.Mode]}\n  - id: other\n    files: [o.ini]\n    settings: {file: o.ini, require: [x]}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Join([]string{
		m + " component app", m + " setting app top=1", m + " setting app [Main]", m + " setting app Version = 2.1", m + " setting app mode=relay",
		m + " component other", m + " setting other [S]", m + " setting other y=1", m + " end",
	}, "\n")
	f := &Facts{}
	if err := parseFacts(f, []byte(out), m, comps); err != nil {
		t.Fatal(err)
	}
	if len(f.Components) != 1 || f.Components[0] != "app" || len(f.Settings["app"]) != 1 || f.Settings["app"]["main.version"] != "2.1" {
		t.Errorf("components %v, settings %v", f.Components, f.Settings)
	}
}

// TestScriptQuotesDeclaredPaths: a declared path reaches the probe script as one quoted
// word, never as shell code.
func TestScriptQuotesDeclaredPaths(t *testing.T) {
	comps := []Component{{ID: "x", Files: []string{"it's $(reboot).ini"}, Marker: "it's $(reboot).ini"}}
	s := Script(&Host{InstallDir: "/opt/x"}, comps, "n")
	if strings.Contains(s, "\"$D/it's") || !strings.Contains(s, `"$D"/'it'\''s $(reboot).ini'`) {
		t.Errorf("script:\n%s", s)
	}
}
