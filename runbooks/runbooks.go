// Package runbooks carries the procedures cutover ships with, as YAML files embedded in
// the binary, and the practice-lab scenarios that rehearse them. A site adds its own
// runbooks as files; Lint checks both kinds the same way.
package runbooks

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
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

// shippedFile is one embedded runbook, parsed on first use and shared from then on:
// most commands need one runbook or none, and parsing and compiling all of them costs
// about a tenth of a second. The wizard has always shared runbooks between its runs:
// nothing may change a parsed runbook (Unchanged checks that a process did not).
type shippedFile struct {
	path, id string
	once     sync.Once
	rb       *steps.Runbook
	err      error
}

func (f *shippedFile) get() (*steps.Runbook, error) {
	f.once.Do(func() { f.rb, f.err = parseEmbedded(f.path) })
	return f.rb, f.err
}

// file is the name a shipped runbook's journal and messages give it.
func (f *shippedFile) file() string { return "runbooks/" + f.path }

// hash is the SHA-256 of the file, as Parse computes it (Runbook.Hash), without parsing:
// a site folder holding a copy of the shipped runbook is told from a shadow by it.
func (f *shippedFile) hash() string {
	data, _ := files.ReadFile(f.path)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// shipped lists the embedded runbook files, sorted by id (the id is the file's path
// without .yaml, which parseEmbedded enforces); shippedErr is why the list could not be
// read (never, for a binary that was built).
var shipped, shippedErr = func() ([]*shippedFile, error) {
	var out []*shippedFile
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !IsRunbookFile(p) || strings.HasPrefix(p, "labfiles/") {
			return err
		}
		out = append(out, &shippedFile{path: p, id: strings.TrimSuffix(p, path.Ext(p))})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, err
}()

// All returns every embedded runbook, sorted by id, with the errors of those that do
// not load. The runbooks are shared and read-only; the slice is the caller's.
func All() ([]*steps.Runbook, error) {
	if shippedErr != nil {
		return nil, shippedErr
	}
	return loadEach(shipped, (*shippedFile).get)
}

// loadEach loads the runbook of each item, in order: those that load, and the errors
// of those that do not.
func loadEach[T any](items []T, load func(T) (*steps.Runbook, error)) ([]*steps.Runbook, error) {
	out := make([]*steps.Runbook, 0, len(items))
	var errs []error
	for _, it := range items {
		rb, err := load(it)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, rb)
	}
	return out, errors.Join(errs...)
}

// shippedByID is the embedded runbook file of id, or nil.
func shippedByID(id string) *shippedFile {
	i := sort.Search(len(shipped), func(i int) bool { return shipped[i].id >= id })
	if i < len(shipped) && shipped[i].id == id {
		return shipped[i]
	}
	return nil
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
	if f := shippedByID(path.Clean(id)); f != nil {
		return f.get()
	}
	ids := make([]string, len(shipped))
	for i, f := range shipped {
		ids[i] = f.id
	}
	return nil, fmt.Errorf("no runbook %q (known: %s)", id, strings.Join(ids, ", "))
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
