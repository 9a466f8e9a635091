// Package runbooks carries the procedures cutover ships with, as YAML files embedded in
// the binary, and the practice-lab scenarios that rehearse them. A site adds its own
// runbooks as files; Lint checks both kinds the same way.
package runbooks

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/cutover/cutover/probe/yamlpos"
	"github.com/cutover/cutover/steps"
)

//go:embed */*.yaml
var files embed.FS

// Embedded is the file system of the shipped runbooks, for tools that list them.
var Embedded fs.FS = files

// shipped is the parse of the embedded runbooks, done once per process: every command
// starts by reading the catalogue, and parsing and compiling all of them costs about a
// tenth of a second, most of a short command's time. The runbooks are shared from here
// on, as the wizard has always shared them between its runs: nothing may change a
// parsed runbook (Unchanged checks that a process did not).
var shipped struct {
	once   sync.Once
	list   []*steps.Runbook
	byPath map[string]*steps.Runbook
	errs   map[string]error
	err    error
}

func loadShipped() {
	s := &shipped
	s.byPath, s.errs = map[string]*steps.Runbook{}, map[string]error{}
	var errs []error
	s.err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !IsRunbookFile(p) || strings.HasPrefix(p, "labfiles/") {
			return err
		}
		rb, err := parseEmbedded(p)
		if err != nil {
			s.errs[p] = err
			errs = append(errs, err)
			return nil
		}
		s.byPath[p] = rb
		s.list = append(s.list, rb)
		return nil
	})
	sort.Slice(s.list, func(i, j int) bool { return s.list[i].ID < s.list[j].ID })
	if s.err == nil {
		s.err = errors.Join(errs...)
	}
}

// All returns every embedded runbook, sorted by id, with the errors of those that do
// not load. The runbooks are shared and read-only; the slice is the caller's.
func All() ([]*steps.Runbook, error) {
	shipped.once.Do(loadShipped)
	return slices.Clone(shipped.list), shipped.err
}

// loadEmbedded is the shared parse of one embedded runbook file.
func loadEmbedded(p string) (*steps.Runbook, error) {
	shipped.once.Do(loadShipped)
	if rb := shipped.byPath[p]; rb != nil {
		return rb, nil
	}
	if err := shipped.errs[p]; err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("no embedded runbook %s", p)
}

func parseEmbedded(p string) (*steps.Runbook, error) {
	data, err := files.ReadFile(p)
	if err != nil {
		return nil, err
	}
	rb, err := steps.Parse("runbooks/"+p, data)
	if err != nil {
		return nil, err
	}
	if want := strings.TrimSuffix(p, ".yaml"); rb.ID != want {
		return nil, fmt.Errorf("runbooks/%s:1:1: id %q does not match the file name (want %q)", p, rb.ID, want)
	}
	return rb, nil
}

// Get returns a runbook by id ("maestro/move-hub") from the embedded set, or by file
// name when id names a file that exists.
func Get(id string) (*steps.Runbook, error) {
	if strings.HasSuffix(id, ".yaml") || strings.HasSuffix(id, ".yml") {
		if _, err := os.Stat(id); err == nil {
			return LoadFile(id)
		}
	}
	p := path.Clean(id) + ".yaml"
	if _, err := fs.Stat(files, p); err != nil {
		all, _ := All()
		ids := make([]string, len(all))
		for i, rb := range all {
			ids[i] = rb.ID
		}
		return nil, fmt.Errorf("no runbook %q (known: %s)", id, strings.Join(ids, ", "))
	}
	return loadEmbedded(p)
}

// LoadFile loads a runbook from a file of the operator's.
func LoadFile(name string) (*steps.Runbook, error) {
	data, err := yamlpos.ReadFile(name)
	if err != nil {
		return nil, err
	}
	rb, err := steps.Parse(name, data)
	if err != nil {
		return nil, err
	}
	// Journals name the file so that resume and export find it again, from any folder.
	if abs, err := filepath.Abs(name); err == nil {
		rb.File = abs
	}
	return rb, nil
}

// Lint checks the runbook files named, each with every problem found (file:line:col),
// and returns the warnings of those that load (every value a command inserts unquoted,
// as code) and how many runbooks were checked. The shipped runbooks are checked too when
// builtin is set, or when no file is named.
func Lint(names []string, builtin bool) (int, []steps.Warning, error) {
	var errs []error
	var warnings []steps.Warning
	n := 0
	if builtin || len(names) == 0 {
		all, err := All()
		n += len(all)
		errs = append(errs, err)
		for _, rb := range all {
			warnings = append(warnings, rb.Warnings...)
		}
	}
	for _, name := range names {
		rb, err := LoadFile(name)
		errs = append(errs, err)
		if rb != nil {
			warnings = append(warnings, rb.Warnings...)
		}
		n++
	}
	return n, warnings, errors.Join(errs...)
}
