package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/cutover/cutover/probe"
)

// The path rules: where an action may write or delete on a host. Every action that
// writes or deletes (copy targets, INI files, written files) goes through safeTarget,
// which applies pathRule to the path as written (normalised) and again to where it leads
// on the host once symbolic links are followed there.

// systemFolders may never be the target of a write or delete, nor lie inside one: a
// target that is one of them, or contains one, is refused. Writing inside them (an INI
// file under /etc, a restore folder under /var/tmp) is allowed.
var systemFolders = []string{
	"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
	"/media", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/snap", "/srv", "/sys",
	"/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/lib64", "/usr/local", "/usr/local/bin",
	"/usr/local/lib", "/usr/local/sbin", "/usr/sbin", "/usr/share", "/var", "/var/cache",
	"/var/lib", "/var/log", "/var/mail", "/var/opt", "/var/spool", "/var/tmp", "/var/www",
	// Solaris and macOS.
	"/export", "/export/home", "/Applications", "/Library", "/System", "/Users", "/Volumes",
	"/private", "/private/etc", "/private/tmp", "/private/var",
	// Windows (every drive's root is refused as well).
	"C:/Windows", "C:/Windows/System32", "C:/Program Files", "C:/Program Files (x86)",
	"C:/ProgramData", "C:/Users",
}

// homeParents hold the users' home folders: a folder directly inside one is someone's
// home and is refused like a system folder.
var homeParents = []string{"/home", "/Users", "/export/home", "C:/Users"}

// cleanHostPath normalises a host path for comparison: forward slashes, no "." or ".."
// parts, no trailing slash; a Windows drive letter in capitals and without the leading
// slash SFTP servers on Windows sometimes add ("/c:/x" is "C:/x").
func cleanHostPath(p string) string {
	p = slashPath(p)
	if isDrivePath(p) {
		return p[:2] + path.Clean("/"+p[2:])
	}
	return path.Clean(p)
}

// slashPath is p with forward slashes, and a Windows drive letter in capitals without
// the slash before it; nothing else changes.
func slashPath(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if len(p) >= 3 && p[0] == '/' && p[2] == ':' && isLetter(p[1]) {
		p = p[1:]
	}
	if len(p) >= 2 && p[1] == ':' && isLetter(p[0]) {
		p = strings.ToUpper(p[:1]) + p[1:]
	}
	return p
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isDrivePath reports whether p (cleaned) is a Windows path, which compares without
// regard to case.
func isDrivePath(p string) bool { return len(p) >= 2 && p[1] == ':' && isLetter(p[0]) }

// within reports whether p is inside dir or is dir (both cleaned).
func within(p, dir string) bool {
	if isDrivePath(p) || isDrivePath(dir) {
		p, dir = strings.ToLower(p), strings.ToLower(dir)
	}
	if p == dir {
		return true
	}
	if !strings.HasSuffix(dir, "/") {
		dir += "/"
	}
	return strings.HasPrefix(p, dir)
}

// samePath reports whether two cleaned paths name the same place.
func samePath(a, b string) bool { return within(a, b) && within(b, a) }

// pathRule returns the rule a write or delete at p breaks, or "" when there is none. p
// must be absolute (a relative one is judged once the install folder is joined to it);
// install is the host's install folder, "" when unknown. Both are compared cleaned, in
// both directions: p may not be a system folder, a home folder or the install folder,
// nor contain any of them.
func pathRule(p, install string) string {
	if strings.TrimSpace(p) == "" {
		return "the path is empty"
	}
	p = cleanHostPath(p)
	if !probe.IsAbs(p) {
		return ""
	}
	if isDrivePath(p) && len(p) == 3 {
		return fmt.Sprintf("%s is the root of a drive", p)
	}
	for _, f := range systemFolders {
		switch {
		case samePath(p, f):
			return fmt.Sprintf("%s is a system folder", p)
		case within(f, p):
			return fmt.Sprintf("%s contains the system folder %s", p, f)
		}
	}
	for _, hp := range homeParents {
		if within(p, hp) && !samePath(p, hp) && samePath(path.Dir(p), hp) {
			return fmt.Sprintf("%s is a user's home folder", p)
		}
	}
	if install != "" {
		in := cleanHostPath(install)
		switch {
		case samePath(p, in):
			return fmt.Sprintf("%s is the install folder itself", p)
		case within(in, p):
			return fmt.Sprintf("%s contains the install folder %s", p, in)
		}
	}
	return ""
}

// PathRefusal is a write or delete the path rules refuse: it names the host, the path
// (and where it leads when a link made that differ), what it was for and the rule.
type PathRefusal struct {
	Host, Path, Resolved, What, Rule string
}

// Error says what was refused and why.
func (e *PathRefusal) Error() string {
	where := e.Path
	if e.Resolved != "" && e.Resolved != e.Path {
		where += " (which leads to " + e.Resolved + " on the host)"
	}
	return fmt.Sprintf("%s: refusing %s %s: %s; cutover never writes or deletes a system folder, a home folder or the install folder, nor a folder that contains one",
		e.Host, e.What, where, e.Rule)
}

// LinkRefusal is a write refused because the path is itself a symbolic link.
type LinkRefusal struct {
	Host, Path, To, What, Hint string
}

// Error says which link was found and where it points.
func (e *LinkRefusal) Error() string {
	msg := fmt.Sprintf("%s: refusing %s %s: it is a symbolic link (to %s); cutover does not write through a link", e.Host, e.What, e.Path, e.To)
	if e.Hint != "" {
		msg += " " + e.Hint
	}
	return msg
}

// maxLinks bounds how many symbolic links resolving one path may follow, as the kernel
// does (ELOOP).
const maxLinks = 40

// splitRoot splits a cleaned absolute path into its root ("/" or "C:/") and the rest.
func splitRoot(p string) (root, rest string) {
	if isDrivePath(p) {
		return p[:2] + "/", strings.TrimPrefix(p[2:], "/")
	}
	return "/", strings.TrimPrefix(p, "/")
}

// resolveOnHost follows, on the host, every symbolic link in p's folders and, when last
// is set, in p's final part too, and returns the path they lead to (cleaned). Parts that
// do not exist yet are kept as written. It asks the host with Lstat and ReadLink one part
// at a time rather than trusting the server's realpath, which some servers compute
// without looking at links.
func resolveOnHost(ctx context.Context, t probe.Transport, p string, last bool) (string, error) {
	// Not cleaned first: "link/.." is the folder above where the link leads, not the
	// folder the link is in.
	p = slashPath(p)
	if !probe.IsAbs(p) {
		return cleanHostPath(p), nil
	}
	root, rest := splitRoot(p)
	todo := splitParts(rest)
	cur := root
	links := 0
	for len(todo) > 0 {
		part := todo[0]
		todo = todo[1:]
		if part == ".." {
			if cur != root {
				cur = path.Dir(cur)
				if isDrivePath(cur) && len(cur) == 2 {
					cur += "/"
				}
			}
			continue
		}
		next := path.Join(cur, part)
		if len(todo) == 0 && !last {
			cur = next
			break
		}
		fi, err := t.Lstat(ctx, next)
		if errors.Is(err, fs.ErrNotExist) {
			// Nothing there yet: the rest is created as written.
			return cleanHostPath(path.Join(append([]string{next}, todo...)...)), nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("%s: more than %d symbolic links to follow (a loop?)", p, maxLinks)
		}
		to, err := t.ReadLink(ctx, next)
		if err != nil {
			return "", err
		}
		to = slashPath(to)
		if probe.IsAbs(to) {
			root, rest = splitRoot(to)
			cur = root
			todo = append(splitParts(rest), todo...)
		} else {
			todo = append(splitParts(to), todo...)
		}
	}
	return cleanHostPath(cur), nil
}

func splitParts(s string) []string {
	var out []string
	for _, part := range strings.Split(s, "/") {
		if part != "" && part != "." {
			out = append(out, part)
		}
	}
	return out
}

// checkPlanned applies the path rules to p as written, without asking the host: plans
// and exports show a refusal before anything runs.
func checkPlanned(h *probe.Host, p, what string) error {
	if rule := pathRule(p, h.InstallDir); rule != "" {
		return &PathRefusal{Host: h.Name, Path: cleanHostPath(p), What: what, Rule: rule}
	}
	return nil
}

// targetOpts say how safeTarget treats a path.
type targetOpts struct {
	// What names the path's use in messages ("the copy target").
	What string
	// Follow allows a symbolic link at the path itself (the runbook's follow_symlinks):
	// the path it leads to is checked and used instead. Without it such a link is
	// refused with a LinkRefusal.
	Follow bool
	// Hint is added to a LinkRefusal (how to go on).
	Hint string
}

// safeTarget is the one gate every write or delete on a host passes: p (a host path
// made absolute by stepExec.path) is checked against the path rules as written, its
// folders are resolved on the host and the result checked again (against the install
// folder as resolved there too), and a symbolic link at p itself is refused unless
// o.Follow. It returns the path to act on: p with its folders' links followed.
func safeTarget(ctx context.Context, t probe.Transport, h *probe.Host, p string, o targetOpts) (string, error) {
	if err := checkPlanned(h, p, o.What); err != nil {
		return "", err
	}
	clean := cleanHostPath(p)
	if !probe.IsAbs(clean) {
		return "", fmt.Errorf("%s: %s %s is not an absolute path and the host has no install folder to resolve it against", h.Name, o.What, clean)
	}
	install := ""
	if h.InstallDir != "" {
		var err error
		if install, err = resolveOnHost(ctx, t, h.InstallDir, true); err != nil {
			return "", fmt.Errorf("%s: resolving the install folder %s: %w", h.Name, h.InstallDir, err)
		}
	}
	refuse := func(resolved string) error {
		if rule := pathRule(resolved, install); rule != "" {
			return &PathRefusal{Host: h.Name, Path: clean, Resolved: resolved, What: o.What, Rule: rule}
		}
		if rule := pathRule(resolved, h.InstallDir); rule != "" {
			return &PathRefusal{Host: h.Name, Path: clean, Resolved: resolved, What: o.What, Rule: rule}
		}
		return nil
	}
	resolved, err := resolveOnHost(ctx, t, clean, false)
	if err != nil {
		return "", fmt.Errorf("%s: resolving %s: %w", h.Name, clean, err)
	}
	if err := refuse(resolved); err != nil {
		return "", err
	}
	fi, err := t.Lstat(ctx, resolved)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return resolved, nil // absent, or not a link: the caller looks further
	}
	to, _ := t.ReadLink(ctx, resolved)
	if !o.Follow {
		return "", &LinkRefusal{Host: h.Name, Path: clean, To: to, What: o.What, Hint: o.Hint}
	}
	if resolved, err = resolveOnHost(ctx, t, resolved, true); err != nil {
		return "", fmt.Errorf("%s: resolving %s: %w", h.Name, clean, err)
	}
	if err := refuse(resolved); err != nil {
		return "", err
	}
	return resolved, nil
}
