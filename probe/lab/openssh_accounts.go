//go:build linux

package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// openSSHAccount returns the login account, creating OpenSSHUser if it is needed and
// missing: a system account with /bin/sh as its shell, an empty home, and a password
// field of "*" (no password, but not "locked", which sshd without PAM would refuse).
func openSSHAccount(name string) (string, error) {
	if name != "" {
		return name, nil
	}
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return "", fmt.Errorf("lab: %w", err)
		}
		return u.Username, nil
	}
	if err := systemAccount(OpenSSHUser, "/bin/sh", "cutover practice lab (OpenSSH tests)"); err != nil {
		return "", err
	}
	return OpenSSHUser, nil
}

// systemAccount creates the system account name when it is missing: the given shell,
// a home of its own in /var/lib (created, owned by it), and a password field of "*"
// (no password, but not "locked", which sshd without PAM would refuse).
func systemAccount(name, shell, comment string) error {
	if _, err := user.Lookup(name); err == nil {
		return nil
	}
	home := "/var/lib/" + name
	out, err := exec.Command("useradd", "--system", "--no-create-home", "--home-dir", home,
		"--shell", shell, "--password", "*", "--comment", comment, name).CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("already exists")) {
		return fmt.Errorf("lab: creating the account %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return osshChown(home, name, false)
}

// handOver gives the hosts' folders to the account that owns the simulated software
// (the login account, or the service account of a sudo site), and checks the login
// can reach them.
func (o *OpenSSH) handOver() error {
	if os.Geteuid() != 0 {
		return nil
	}
	// The account must be able to walk down to the hosts' folders.
	for d := o.lab.dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("lab: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("lab: %s is not searchable by others (mode %v), so the account %s cannot reach the lab in %s: "+
				"put the lab in a folder whose parents are (chmod o+x)", d, fi.Mode().Perm(), o.user, o.lab.dir)
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	if o.sudo != nil {
		return o.handOverToService()
	}
	return osshChown(filepath.Join(o.lab.dir, hostsDir), o.user, true)
}

// osshChown gives path (and with recursive, everything below it) to the account name.
func osshChown(path, name string, recursive bool) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if !recursive {
		return os.Lchown(path, uid, gid)
	}
	return chownTree(path, uid, gid)
}

// chownHook, when set (by tests), is called after each path is handed over: the moment
// a process of the account could first change what it owns.
var chownHook func(path string)

// chownTree gives the folder path and everything below it to uid:gid. Root does this,
// and the account may already be running processes (sessions of an earlier serve), so
// nothing is looked up by path after the walk starts: each folder is opened relative to
// its parent without following symlinks (O_NOFOLLOW), entries are changed relative to
// their folder without following them (AT_SYMLINK_NOFOLLOW), and a folder's contents
// are handed over before the folder itself. Walking top-down by path, a process of the
// account could swap a folder it had just been given for a symlink and have root's
// chown follow it out of the lab.
func chownTree(path string, uid, gid int) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("lab: opening %s: %w", path, err)
	}
	dir := os.NewFile(uintptr(fd), path)
	defer dir.Close()
	return chownDir(dir, path, uid, gid, 0)
}

func chownDir(dir *os.File, path string, uid, gid, depth int) error {
	if depth > 64 {
		return fmt.Errorf("lab: %s: folders nest deeper than 64", path)
	}
	entries, err := dir.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	dfd := int(dir.Fd())
	for _, e := range entries {
		name, p := e.Name(), filepath.Join(path, e.Name())
		if e.IsDir() {
			fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err == nil {
				sub := os.NewFile(uintptr(fd), p)
				err = chownDir(sub, p, uid, gid, depth+1)
				sub.Close()
				if err != nil {
					return err
				}
				continue
			}
			if !errors.Is(err, unix.ELOOP) && !errors.Is(err, unix.ENOTDIR) {
				return fmt.Errorf("lab: opening %s: %w", p, err)
			}
			// No longer a folder: handed over as what it now is, not followed.
		}
		var st unix.Stat_t
		if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("lab: %s: %w", p, err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink > 1 && int(st.Uid) != uid {
			// A hard link could be a second name of a file outside the lab.
			return fmt.Errorf("lab: %s has %d hard links: not handing it to uid %d", p, st.Nlink, uid)
		}
		if err := unix.Fchownat(dfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("lab: chown %s: %w", p, err)
		}
		if chownHook != nil {
			chownHook(p)
		}
	}
	if err := unix.Fchown(dfd, uid, gid); err != nil {
		return fmt.Errorf("lab: chown %s: %w", path, err)
	}
	if chownHook != nil {
		chownHook(path)
	}
	return nil
}
