package lab

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Names of the lab's canary, in the lab folder and outside every host: what a planted
// link points to. Nothing cutover does may ever change them.
const (
	canaryFile = "canary"
	canaryDir  = "canary.d"
)

// canaryContent is what the canary file and the file in the canary folder hold.
const canaryContent = "canary of the cutover practice lab: nothing may ever write here\n"

// Canary returns the lab's canary file and folder (the folder holds one file, "keep"),
// which PlantLink disruptions point their links at. A test compares them before and after
// a run: any change means something was written through a planted link.
func (l *Lab) Canary() (file, dir string) {
	return filepath.Join(l.dir, canaryFile), filepath.Join(l.dir, canaryDir)
}

// writeCanary creates the canary file and folder.
func (l *Lab) writeCanary() error {
	file, dir := l.Canary()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, p := range []string{file, filepath.Join(dir, "keep")} {
		if err := writeFileAtomic(p, []byte(canaryContent), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// plant carries out an armed PlantLink disruption that matches path, a name an SFTP
// request of host h is about to create: a symbolic link to the canary (the folder when
// folder is set) is made there first, unless something exists there already. The strike
// is recorded in the audit log: kind "fault", op "link", the link and its target.
func (l *Lab) plant(h *host, path string, folder bool) {
	d := l.take(h, momentBeforeCreate, path)
	if d == nil {
		return
	}
	file, dir := l.Canary()
	to := file
	if folder {
		to = dir
	}
	err := os.Symlink(to, path)
	if errors.Is(err, fs.ErrExist) {
		err = nil // an attacker finds the name taken too
	}
	l.logf("%s: disruption %s plants a link at %q", h.name, d, path)
	e := AuditEntry{Host: h.name, Kind: "fault", Op: d.Kind, Path: path, Target: to}
	if err != nil {
		e.Error = err.Error()
	}
	l.record(e)
}

// linkedTo is where path leads when it is a symbolic link (followed to the end), or ""
// when it is not one: the audit log records it for a change made through a link.
func linkedTo(path string) string {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return ""
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		to, _ := os.Readlink(path)
		return to
	}
	return real
}
