package inventory

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cutover/cutover/probe/yamlpos"
)

// group_vars/ and host_vars/ beside an inventory file (or in an inventory folder), as
// Ansible's host_group_vars plugin reads them: for a group or host NAME, the file NAME,
// NAME.yml, NAME.yaml or NAME.json, or else every such file below the folder NAME, in
// name order (later files override earlier ones). Hidden files and backups ending in
// "~" are skipped. Files for groups and hosts the inventory does not have are not read,
// as in Ansible. A file encrypted with ansible-vault, or a !vault value, is refused
// with the file's name: cutover cannot decrypt them.
//
// Precedence, lowest first, as Ansible documents it for inventory variables: the
// inventory's own variables of all, then of the host's groups (by depth, priority and
// name); then group_vars/all, then group_vars of the host's groups in the same order;
// then the host's variables in the inventory, then host_vars/HOST.

// varsExts are the extensions of variable files; "" is a file without one.
var varsExts = []string{"", ".yml", ".yaml", ".json"}

// readVarsDirs reads base/group_vars and base/host_vars for the inventory's groups and
// hosts.
func (a *ansInv) readVarsDirs(base string) {
	if a.check != nil {
		for _, d := range []string{"group_vars", "host_vars"} {
			if _, err := os.Stat(filepath.Join(base, d)); err == nil {
				if err := a.check(filepath.Join(base, d)); err != nil {
					a.errs.Add(yamlpos.Pos{File: filepath.Join(base, d)}, "%v", err)
					return
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(a.groups)) {
		g := a.groups[name]
		for _, f := range varsFiles(filepath.Join(base, "group_vars"), name) {
			g.fileVars = mergeVars(g.fileVars, a.readVarsFile(f, "group_vars of "+name))
		}
	}
	for _, name := range a.order {
		h := a.hosts[name]
		for _, f := range varsFiles(filepath.Join(base, "host_vars"), name) {
			h.fileVars = mergeVars(h.fileVars, a.readVarsFile(f, "host_vars of "+name))
		}
	}
}

func mergeVars(into, more map[string]ansVar) map[string]ansVar {
	if into == nil {
		into = map[string]ansVar{}
	}
	maps.Copy(into, more)
	return into
}

// varsFiles lists the variable files of name in dir, in the order they apply.
func varsFiles(dir, name string) []string {
	p := filepath.Join(dir, name)
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return varsFilesBelow(p, 0)
	}
	var out []string
	for _, ext := range varsExts {
		if fi, err := os.Stat(p + ext); err == nil && !fi.IsDir() {
			out = append(out, p+ext)
		}
	}
	return out
}

// varsFilesBelow lists the variable files below dir, in name order, folders included
// where they sort.
func varsFilesBelow(dir string, depth int) []string {
	entries, err := os.ReadDir(dir)
	if err != nil || depth > 16 {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		p := filepath.Join(dir, n)
		ext := filepath.Ext(n)
		fi, err := os.Stat(p)
		switch {
		case err != nil:
		case fi.IsDir() && ext == "":
			out = append(out, varsFilesBelow(p, depth+1)...)
		case !fi.IsDir() && slices.Contains(varsExts, ext):
			out = append(out, p)
		}
	}
	return out
}

// readVarsFile reads one variable file: a YAML (or JSON) mapping, or nothing.
func (a *ansInv) readVarsFile(file, what string) map[string]ansVar {
	if a.check != nil {
		if err := a.check(file); err != nil {
			a.errs.Add(yamlpos.Pos{File: file}, "%v", err)
			return nil
		}
	}
	data, err := yamlpos.ReadFile(file)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			a.errs.Add(yamlpos.Pos{File: file}, "%v", err)
		}
		return nil
	}
	a.record(file, data)
	if isVault(data) {
		a.errs.Add(yamlpos.Pos{File: file, Line: 1, Col: 1}, "%s", vaultMessage)
		return nil
	}
	if strings.TrimSpace(stripYAMLComments(string(data))) == "" {
		return nil // an empty file sets nothing
	}
	m := a.topMapping(file, data, what+": expected a mapping of variable names to values")
	if m == nil {
		return nil
	}
	return a.yamlVars(m, what)
}

// stripYAMLComments drops comment lines and a leading "---", to tell an empty file.
func stripYAMLComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || t == "---" {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}
