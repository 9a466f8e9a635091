//go:build unix

package journal

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// Exposure lists why the journal at path, or the folder it is in, could have been
// written by someone other than the user running cutover: a file owned by another
// user (root aside), or a file or folder that group or others may write (a folder
// with the sticky bit, such as /tmp, lets no one replace another's file and is fine).
// Each problem names the path, its owner and its mode. A journal someone else could
// write is one whose events someone else could have chosen, and resume and replay act
// on those events on the hosts.
func Exposure(path string) []string {
	var out []string
	me := os.Geteuid()
	check := func(p string, folder bool) {
		fi, err := os.Stat(p)
		if err != nil {
			return // a journal not written yet; a folder that cannot be read fails elsewhere
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return
		}
		what := "journal"
		if folder {
			what = "journal folder"
		}
		uid := int(st.Uid)
		if uid != me && uid != 0 {
			out = append(out, fmt.Sprintf("%s %s is owned by %s, not by %s (mode %s)", what, p, userName(uid), userName(me), fi.Mode()))
		}
		if fi.Mode()&0o022 != 0 && !(folder && fi.Mode()&fs.ModeSticky != 0) {
			who := "others"
			if fi.Mode()&0o002 == 0 {
				who = "its group"
			}
			out = append(out, fmt.Sprintf("%s %s is writable by %s (mode %s, owner %s)", what, p, who, fi.Mode(), userName(uid)))
		}
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // the file that is read and written, in the folder it is really in
	}
	check(path, false)
	check(filepath.Dir(path), true)
	return out
}

// userName is "name (uid N)", or "uid N" for an unknown user.
func userName(uid int) string {
	id := strconv.Itoa(uid)
	if u, err := user.LookupId(id); err == nil {
		return fmt.Sprintf("%s (uid %s)", u.Username, id)
	}
	return "uid " + id
}
