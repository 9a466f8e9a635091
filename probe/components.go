package probe

import (
	_ "embed"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/cutover/cutover/probe/ini"
	"github.com/cutover/cutover/probe/yamlpos"
)

// Component is something the probe looks for in a host's install folder. The shipped
// ones are declared in components.yaml; a site declares its own in the same form.
type Component struct {
	// ID is the short name runbooks use ("lui").
	ID string
	// System is the product it belongs to ("maestro").
	System string
	// Title is the product's own name for it.
	Title string
	// Files (relative to the install folder) must all exist for the component to count
	// as installed.
	Files []string
	// Services are inventory services whose status tells the component is installed
	// (running or stopped); they mark a component that Files do not.
	Services []string
	// Marker is the INI file whose keys become settings ("" reads none).
	Marker string
	// Dialect is how the component's own program reads Marker: Maestro reads its INI
	// files as Java properties (backslash escapes, ":" separators, continuation lines).
	Dialect ini.Dialect
	// Facts are the keys of Marker kept as settings (SECTION.KEY inside a section); empty
	// keeps every key.
	Facts []string
	// Require are keys Marker must define for the component to count.
	Require []string
}

type componentsDoc struct {
	Components []*componentDoc `yaml:"components"`
}

type componentDoc struct {
	ID       string       `yaml:"id"`
	System   string       `yaml:"system"`
	Title    string       `yaml:"title"`
	Files    []string     `yaml:"files"`
	Services []string     `yaml:"services"`
	Settings *settingsDoc `yaml:"settings"`
}

type settingsDoc struct {
	File    string   `yaml:"file"`
	Format  string   `yaml:"format"`
	Facts   []string `yaml:"facts"`
	Require []string `yaml:"require"`
}

var componentID = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// ParseComponents reads component declarations (a components.yaml), every problem with
// file:line:col. An id that a component of taken has is an error, as is one declared twice.
func ParseComponents(file string, data []byte, taken []Component) ([]Component, error) {
	var doc componentsDoc
	if err := yamlpos.Decode(file, data, &doc); err != nil {
		return nil, err
	}
	var errs yamlpos.List
	loc := yamlpos.NewLocator(file, data)
	ids := map[string]bool{}
	for _, c := range taken {
		ids[c.ID] = true
	}
	var out []Component
	for i, d := range doc.Components {
		at := loc.At("$.components[%d]", i)
		c := Component{ID: d.ID, System: d.System, Title: d.Title, Files: d.Files, Services: d.Services}
		if !componentID.MatchString(d.ID) {
			errs.Add(at, "id %q: a component id is lower-case letters, digits, - and _, starting with a letter", d.ID)
		} else if ids[d.ID] {
			errs.Add(at, "id %s: a component of that id is declared already", d.ID)
		}
		ids[d.ID] = true
		if len(d.Files) == 0 && len(d.Services) == 0 {
			errs.Add(at, "component %s: give the files that mark it, or its services", d.ID)
		}
		for _, f := range d.Files {
			if err := relPath(f); err != nil {
				errs.Add(at, "component %s: files: %v", d.ID, err)
			}
		}
		if s := d.Settings; s != nil {
			if err := relPath(s.File); err != nil {
				errs.Add(at, "component %s: settings: file: %v", d.ID, err)
			}
			c.Marker, c.Facts, c.Require = s.File, s.Facts, s.Require
			c.Dialect = INIDialect(s.File)
			if s.Format != "" {
				dl, err := ini.ParseDialect(s.Format)
				if err != nil {
					errs.Add(at, "component %s: settings: %v", d.ID, err)
				}
				c.Dialect = dl
			}
		}
		out = append(out, c)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// relPath accepts a path relative to the install folder that stays inside it and holds
// nothing a command line would read as more than a path.
func relPath(p string) error {
	clean := strings.ReplaceAll(p, `\`, "/")
	switch {
	case p == "":
		return fmt.Errorf("empty path")
	case IsAbs(clean) || slices.Contains(strings.Split(clean, "/"), ".."):
		return fmt.Errorf("%q must be relative to the install folder, with no .. in it", p)
	case strings.ContainsAny(p, "\x00\n\r"):
		return fmt.Errorf("%q holds a control character", p)
	}
	return nil
}

//go:embed components.yaml
var shippedComponents []byte

// Catalogue lists the components cutover ships declarations for (components.yaml).
var Catalogue = mustComponents()

func mustComponents() []Component {
	c, err := ParseComponents("probe/components.yaml", shippedComponents, nil)
	if err != nil {
		panic(err) // a build mistake, caught by every probe test
	}
	return c
}

var (
	declaredMu sync.Mutex
	declared   []Component
)

// Declare sets the site's own components (read from the runbook folders on the search
// path), which every probe of this process looks for besides the shipped ones. The
// program reads them once at start; the probes that need them are started from many
// places (the wizard, a run, the engine's look at a host that came back, cluster
// checks), so they are kept here rather than passed to each.
func Declare(site []Component) {
	declaredMu.Lock()
	defer declaredMu.Unlock()
	declared = slices.Clone(site)
}

// Components is every component a probe looks for: the shipped ones, then the site's.
func Components() []Component {
	declaredMu.Lock()
	defer declaredMu.Unlock()
	return append(slices.Clone(Catalogue), declared...)
}

// INIDialect is the dialect a component's program reads file with, judged by its name:
// Maestro's lui.ini, hub.ini and tracker.ini are Java properties wherever they are kept;
// any other file is a plain INI file.
func INIDialect(file string) ini.Dialect {
	base := path.Base(strings.ReplaceAll(file, `\`, "/"))
	for _, name := range []string{"lui.ini", "hub.ini", "tracker.ini"} {
		if strings.EqualFold(name, base) {
			return ini.Properties
		}
	}
	return ini.INI
}

// settingsOf reads a component's settings from its file's lines: every key, or those
// Facts names, a key inside a section as SECTION.KEY. ok is false when a key the
// component requires is missing.
func (c Component) settingsOf(lines []string) (map[string]string, bool) {
	f := ini.ParseAs([]byte(strings.Join(lines, "\n")), c.Dialect)
	all := map[string]string{}
	for _, sec := range f.Sections() {
		for k, v := range f.Keys(sec) {
			if sec != "" {
				k = sec + "." + k
			}
			all[k] = v
		}
	}
	find := func(key string) (string, string, bool) {
		if v, ok := all[key]; ok {
			return key, v, true
		}
		if c.Dialect == ini.INI { // INI readers compare keys and sections without case
			for k, v := range all {
				if strings.EqualFold(k, key) {
					return k, v, true
				}
			}
		}
		return "", "", false
	}
	for _, r := range c.Require {
		if _, _, ok := find(r); !ok {
			return nil, false
		}
	}
	if len(c.Facts) == 0 {
		return all, true
	}
	kept := map[string]string{}
	for _, name := range c.Facts {
		if _, v, ok := find(name); ok {
			kept[name] = v
		}
	}
	return kept, true
}
