package runbooks

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

//go:embed skeleton
var skeletonFiles embed.FS

var runbookID = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}/[a-z][a-z0-9-]{0,39}$`)

// NewRunbook writes a runbook skeleton with id (SYSTEM/NAME) into the runbook folder
// dir: SYSTEM/NAME.yaml, commented, with a step of each common kind (service, copy, ini,
// a manual step, a start gated on a log); SYSTEM/NAME.components.yaml, what marks its
// application on a host; and SYSTEM/NAME.lab.yaml with its stand-in script in
// SYSTEM/lab/, a practice lab in which the skeleton runs as written. Nothing is
// overwritten: an existing file stops it before anything is written. It returns the
// files written.
func NewRunbook(dir, id string) ([]string, error) {
	if !runbookID.MatchString(id) {
		return nil, fmt.Errorf("runbook id %q: write SYSTEM/NAME in lower-case letters, digits and -, such as postfix/move-queue", id)
	}
	system, name, _ := strings.Cut(id, "/")
	base := filepath.Join(dir, system)
	data := map[string]string{
		"ID": id, "System": system, "Component": name, "Scenario": name, "Slug": system + "-" + name,
		"Dir": dir, "File": filepath.Join(base, name+".yaml"),
	}
	out := map[string][]byte{}
	for src, dst := range map[string]string{
		"runbook.yaml.tmpl":    name + ".yaml",
		"components.yaml.tmpl": name + ".components.yaml",
		"lab.yaml.tmpl":        name + ".lab.yaml",
	} {
		text, err := fs.ReadFile(skeletonFiles, "skeleton/"+src)
		if err != nil {
			return nil, err
		}
		t, err := template.New(src).Option("missingkey=error").Parse(string(text))
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return nil, err
		}
		out[filepath.Join(base, dst)] = b.Bytes()
	}
	script, err := fs.ReadFile(skeletonFiles, "skeleton/appctl")
	if err != nil {
		return nil, err
	}
	out[filepath.Join(base, "lab", "appctl")] = script
	var written []string
	for p := range out {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("%s exists already: cutover new runbook does not overwrite files", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	for _, p := range []string{filepath.Join(base, name+".yaml"), filepath.Join(base, name+".components.yaml"), filepath.Join(base, name+".lab.yaml"), filepath.Join(base, "lab", "appctl")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return written, err
		}
		mode := os.FileMode(0o644)
		if filepath.Base(p) == "appctl" {
			mode = 0o755
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return written, err
		}
		_, err = f.Write(out[p])
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}
