package runbooks

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/yamlpos"
	"github.com/cutover/cutover/steps"
)

// Shipped is the origin of the runbooks embedded in the binary.
const Shipped = "shipped"

// Dir is one folder of site runbooks on the search path, and what put it there.
type Dir struct {
	// Path is the folder.
	Path string
	// From says how it was named: "--runbooks", "CUTOVER_RUNBOOKS", "./runbooks" or
	// "config folder".
	From string
	// Named is set when the operator named the folder (flag or variable): then it must
	// exist. The folders cutover looks in by itself may be missing.
	Named bool
}

// SearchPathOptions say where site runbooks are looked for.
type SearchPathOptions struct {
	// Dirs are the folders given with --runbooks, first first.
	Dirs []string
	// Getenv reads CUTOVER_RUNBOOKS; nil means os.Getenv.
	Getenv func(string) string
	// ConfigDir is the user's configuration folder; nil means os.UserConfigDir.
	ConfigDir func() (string, error)
}

// SearchPath is the folders site runbooks are read from, highest precedence first:
// every --runbooks DIR, the folders of CUTOVER_RUNBOOKS (a path list, as PATH is
// written), ./runbooks, and cutover/runbooks in the user's configuration folder
// (~/.config/cutover/runbooks on Linux). A folder named twice is read once.
func SearchPath(o SearchPathOptions) []Dir {
	getenv, configDir := o.Getenv, o.ConfigDir
	if getenv == nil {
		getenv = os.Getenv
	}
	if configDir == nil {
		configDir = os.UserConfigDir
	}
	var out []Dir
	seen := map[string]bool{}
	add := func(d Dir) {
		if d.Path == "" {
			return
		}
		key := filepath.Clean(d.Path)
		if abs, err := filepath.Abs(d.Path); err == nil {
			key = abs
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, d)
		}
	}
	for _, d := range o.Dirs {
		add(Dir{Path: d, From: "--runbooks", Named: true})
	}
	for _, d := range filepath.SplitList(getenv("CUTOVER_RUNBOOKS")) {
		add(Dir{Path: d, From: "CUTOVER_RUNBOOKS", Named: true})
	}
	add(Dir{Path: "runbooks", From: "./runbooks"})
	if dir, err := configDir(); err == nil && dir != "" {
		add(Dir{Path: filepath.Join(dir, "cutover", "runbooks"), From: "config folder"})
	}
	return out
}

// Entry is one runbook of a catalogue and where it comes from.
type Entry struct {
	// ID is the runbook's id.
	ID string
	// rb is the runbook: a site's is read with its folder; a shipped one is parsed when
	// Runbook is first asked for it (shipped).
	rb      *steps.Runbook
	shipped *shippedFile
	// Origin is Shipped, or the site folder the runbook was read from.
	Origin string
	// From is how that folder was named (see Dir.From); empty for shipped runbooks.
	From string
	// Shadows is set when a site runbook replaced another of the same id (allowed with
	// AllowShadow); Shadowed names the file it replaced.
	Shadows  bool
	Shadowed string
}

// Runbook is the entry's runbook, a shipped one parsed on first use (and shared).
func (e *Entry) Runbook() (*steps.Runbook, error) {
	if e.shipped != nil {
		return e.shipped.get()
	}
	return e.rb, nil
}

// file is where the entry's runbook is read from.
func (e *Entry) file() string {
	if e.shipped != nil {
		return e.shipped.file()
	}
	return e.rb.File
}

// Catalog is every runbook cutover can run: the shipped ones and the site's, by id.
type Catalog struct {
	// Entries are sorted by id.
	Entries []*Entry
	// Warnings are what the operator should know about the catalogue (a shadowed id).
	Warnings []string
	// Dirs is the search path the catalogue was read from.
	Dirs []Dir
	// Components are the site's own component declarations (NAME.components.yaml in a
	// folder), for probe.Declare.
	Components []probe.Component
	// Scenarios maps the name of a site's practice-lab scenario to its file
	// (NAME.lab.yaml in a folder), for cutover lab --scenario NAME.
	Scenarios map[string]string
}

// LoadOptions control Load.
type LoadOptions struct {
	SearchPathOptions
	// AllowShadow lets a site runbook replace a runbook of the same id (shipped, or from
	// a folder later on the search path), with a warning; without it that is an error.
	AllowShadow bool
}

// siteSuffixes are the files of a runbook folder that are not runbooks: practice-lab
// scenarios and component declarations.
var siteSuffixes = []string{".lab.yaml", ".lab.yml", ".components.yaml", ".components.yml"}

// IsRunbookFile reports whether name, a file of a runbook folder, is a runbook (and not
// a lab scenario or component declaration).
func IsRunbookFile(name string) bool {
	if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") {
		return false
	}
	for _, s := range siteSuffixes {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return true
}

// Load reads the shipped runbooks and those of every folder on the search path. A
// runbook in a folder is FOLDER/SYSTEM/NAME.yaml with id SYSTEM/NAME. A site runbook
// whose id is already taken (by a shipped runbook or one earlier on the path) is an
// error naming both files, unless AllowShadow; a file with the content of the shipped
// runbook of its id (a checkout of cutover's own runbooks/) is that runbook, not a
// shadow. Every problem is returned together, with the catalogue of what did load.
func Load(o LoadOptions) (*Catalog, error) {
	c := &Catalog{Dirs: SearchPath(o.SearchPathOptions), Scenarios: map[string]string{}}
	errs := []error{shippedErr}
	byID := map[string]*Entry{}
	for _, f := range shipped {
		byID[f.id] = &Entry{ID: f.id, shipped: f, Origin: Shipped}
	}
	// Later folders first, so that an earlier one (higher precedence) replaces them.
	type found struct {
		rb  *steps.Runbook
		dir Dir
	}
	var site []found
	taken := probe.Catalogue
	for _, d := range c.Dirs {
		got, err := loadDir(d)
		errs = append(errs, err)
		for _, rb := range got.runbooks {
			site = append(site, found{rb, d})
		}
		for _, p := range got.components {
			comps, err := readComponents(p, taken)
			errs = append(errs, err)
			taken = append(slices.Clone(taken), comps...)
			c.Components = append(c.Components, comps...)
		}
		for _, p := range got.scenarios {
			name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(p), ".lab.yaml"), ".lab.yml")
			if _, dup := c.Scenarios[name]; !dup {
				c.Scenarios[name] = p
			}
		}
	}
	claimed := map[string]found{}
	for _, f := range site {
		id := f.rb.ID
		if s := byID[id]; s != nil && s.shipped != nil && s.shipped.hash() == f.rb.Hash {
			continue // the shipped runbook's own source file
		}
		if prev, ok := claimed[id]; ok {
			// Two site folders: the earlier folder wins.
			if !o.AllowShadow {
				errs = append(errs, yamlpos.Errorf(yamlpos.Pos{File: prev.rb.File, Line: 1, Col: 1},
					"runbook id %s is also defined in %s (%s): give one of them another id, or pass --allow-shadow to use this one",
					id, f.rb.File, f.dir.From))
				continue
			}
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: runbook %s shadows %s (%s)", prev.rb.File, id, f.rb.File, f.dir.From))
			continue
		}
		claimed[id] = f
		e := &Entry{ID: id, rb: f.rb, Origin: f.dir.Path, From: f.dir.From}
		f.rb.Origin = f.dir.Path
		if s := byID[id]; s != nil {
			if !o.AllowShadow {
				errs = append(errs, yamlpos.Errorf(yamlpos.Pos{File: f.rb.File, Line: idLine(f.rb), Col: 1},
					"runbook id %s is a shipped runbook's: give the site's runbook another id (say site/%s), or pass --allow-shadow to use it instead",
					id, probe.Slug(id)))
				continue
			}
			e.Shadows, e.Shadowed = true, s.file()
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: runbook %s shadows the shipped one", f.rb.File, id))
		}
		byID[id] = e
	}
	for _, e := range byID {
		c.Entries = append(c.Entries, e)
	}
	sort.Slice(c.Entries, func(i, j int) bool { return c.Entries[i].ID < c.Entries[j].ID })
	return c, errors.Join(errs...)
}

// idLine is the line the runbook's id is written on (a top-level "id:"); 1 when it
// cannot be told.
func idLine(rb *steps.Runbook) int {
	data, err := os.ReadFile(rb.File)
	if err != nil {
		return 1
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "id:") {
			return i + 1
		}
	}
	return 1
}

// readComponents reads a site's component declarations.
func readComponents(p string, taken []probe.Component) ([]probe.Component, error) {
	data, err := yamlpos.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return probe.ParseComponents(p, data, taken)
}

// dirContent is what one runbook folder holds: runbooks, and the files of the lab
// scenarios and component declarations beside them.
type dirContent struct {
	runbooks              []*steps.Runbook
	scenarios, components []string
}

// loadDir reads the runbooks of one folder. A missing folder that cutover looked for by
// itself holds none; one the operator named is an error.
func loadDir(d Dir) (dirContent, error) {
	var out dirContent
	st, err := os.Stat(d.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !d.Named:
		return out, nil
	case err != nil:
		return out, fmt.Errorf("runbook folder %s (%s): %w", d.Path, d.From, err)
	case !st.IsDir():
		return out, fmt.Errorf("runbook folder %s (%s) is not a folder", d.Path, d.From)
	}
	var errs []error
	err = filepath.WalkDir(d.Path, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		name := de.Name()
		if de.IsDir() {
			if p != d.Path && (strings.HasPrefix(name, ".") || name == "labfiles" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasPrefix(name, "."):
			return nil
		case strings.HasSuffix(name, ".lab.yaml") || strings.HasSuffix(name, ".lab.yml"):
			out.scenarios = append(out.scenarios, p)
			return nil
		case strings.HasSuffix(name, ".components.yaml") || strings.HasSuffix(name, ".components.yml"):
			out.components = append(out.components, p)
			return nil
		case !IsRunbookFile(name):
			return nil
		}
		rb, err := LoadFile(p)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		rel, _ := filepath.Rel(d.Path, p)
		want := strings.TrimSuffix(strings.TrimSuffix(filepath.ToSlash(rel), ".yaml"), ".yml")
		if rb.ID != want {
			errs = append(errs, yamlpos.Errorf(yamlpos.Pos{File: p, Line: idLine(rb), Col: 1},
				"id %q does not match the file's place in %s: a runbook with id %s belongs in %s", rb.ID, d.Path, rb.ID,
				filepath.Join(d.Path, filepath.FromSlash(rb.ID)+".yaml")))
			return nil
		}
		out.runbooks = append(out.runbooks, rb)
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// Runbooks lists the catalogue's runbooks, sorted by id, parsing the shipped ones not
// parsed yet; those that do not load are left out and their errors returned.
func (c *Catalog) Runbooks() ([]*steps.Runbook, error) {
	return loadEach(c.Entries, (*Entry).Runbook)
}

// Entry returns the entry of id, or nil.
func (c *Catalog) Entry(id string) *Entry {
	i := sort.Search(len(c.Entries), func(i int) bool { return c.Entries[i].ID >= id })
	if i < len(c.Entries) && c.Entries[i].ID == id {
		return c.Entries[i]
	}
	return nil
}

// Get returns a runbook by id from the catalogue, or by file name when id names a
// runbook file that exists.
func (c *Catalog) Get(id string) (*steps.Runbook, error) {
	if strings.HasSuffix(id, ".yaml") || strings.HasSuffix(id, ".yml") {
		if _, err := os.Stat(id); err == nil {
			return LoadFile(id)
		}
	}
	if e := c.Entry(id); e != nil {
		return e.Runbook()
	}
	ids := make([]string, len(c.Entries))
	for i, e := range c.Entries {
		ids[i] = e.ID
	}
	return nil, fmt.Errorf("no runbook %q (known: %s)", id, strings.Join(ids, ", "))
}
