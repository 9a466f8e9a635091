package lab

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// InstallTree fingerprints what is in the install folders of the named hosts: one line
// per folder ("host:path/") and per file ("host:path SHA-256"), sorted. Folders named
// logs are left out (every start writes a dated log), and rename, when set, rewrites
// each relative path first (a run id in a backup name, say), so that two runs that did
// the same to the hosts give the same text.
func (l *Lab) InstallTree(hosts []string, rename func(rel string) string) (string, error) {
	var lines []string
	for _, name := range hosts {
		h := l.byName[name]
		if h == nil {
			return "", fmt.Errorf("lab: no host %s", name)
		}
		err := filepath.WalkDir(h.installDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "logs" {
				return filepath.SkipDir
			}
			rel, _ := filepath.Rel(h.installDir, p)
			rel = filepath.ToSlash(rel)
			if rename != nil {
				rel = rename(rel)
			}
			if d.IsDir() {
				lines = append(lines, name+":"+rel+"/")
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			lines = append(lines, fmt.Sprintf("%s:%s %x", name, rel, sha256.Sum256(b)))
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n"), nil
}
