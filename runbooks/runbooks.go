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
	"sort"
	"strings"

	"github.com/cutover/cutover/probe/yamlpos"
	"github.com/cutover/cutover/steps"
)

//go:embed */*.yaml
var files embed.FS

// Embedded is the file system of the shipped runbooks, for tools that list them.
var Embedded fs.FS = files

// All loads every embedded runbook, sorted by id.
func All() ([]*steps.Runbook, error) {
	var out []*steps.Runbook
	var errs []error
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !IsRunbookFile(p) || strings.HasPrefix(p, "labfiles/") {
			return err
		}
		rb, err := loadEmbedded(p)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		out = append(out, rb)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, errors.Join(errs...)
}

func loadEmbedded(p string) (*steps.Runbook, error) {
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
