package lab

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/pkg/sftp"
)

// sftpFS serves a host's files to pkg/sftp's RequestServer straight from the operating
// system, the way OpenSSH's sftp-server does, and records every change in the audit log.
// Paths arrive absolute: the request server has already joined relative ones to the
// host root.
type sftpFS struct {
	l  *Lab
	h  *host
	as string // the account a simulated sudo started the server as, if any
}

func (l *Lab) sftpHandlers(h *host, as string) sftp.Handlers {
	s := &sftpFS{l: l, h: h, as: as}
	return sftp.Handlers{FileGet: s, FilePut: s, FileCmd: s, FileList: s}
}

// audit records a file change, or the failed attempt at one.
func (s *sftpFS) audit(op, path, target, flags string, err error) {
	e := AuditEntry{Host: s.h.name, Kind: "sftp", Op: op, Path: path, Target: target, Flags: flags, As: s.as}
	if err != nil {
		e.Error = err.Error()
	}
	s.l.record(e)
	if err == nil {
		// A disruption may cut the connection now: the change is made, its reply unsent.
		s.l.strike(s.h, momentFileChanged, path)
	}
}

// Fileread opens a file for reading only; *os.File reads at offsets without seeking, so
// concurrent reads of a large file stay cheap.
func (s *sftpFS) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	f, err := os.Open(r.Filepath)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Filewrite opens a file for writing.
func (s *sftpFS) Filewrite(r *sftp.Request) (io.WriterAt, error) { return s.open(r) }

// OpenFile opens a file for reading and writing.
func (s *sftpFS) OpenFile(r *sftp.Request) (sftp.WriterAtReaderAt, error) { return s.open(r) }

// open maps SFTP open flags to open(2) flags as OpenSSH does. The request server calls it
// only for opens that may change the file, so every call is audited.
func (s *sftpFS) open(r *sftp.Request) (sftp.WriterAtReaderAt, error) {
	pf := r.Pflags()
	flag := os.O_RDONLY
	switch {
	case pf.Read && pf.Write:
		flag = os.O_RDWR
	case pf.Write:
		flag = os.O_WRONLY
	}
	var names []string
	for _, f := range []struct {
		on   bool
		flag int
		name string
	}{
		{pf.Write, 0, "write"}, {pf.Append, os.O_APPEND, "append"}, {pf.Creat, os.O_CREATE, "create"},
		{pf.Trunc, os.O_TRUNC, "trunc"}, {pf.Excl, os.O_EXCL, "excl"},
	} {
		if f.on {
			flag |= f.flag
			names = append(names, f.name)
		}
	}
	if pf.Creat {
		s.l.plant(s.h, r.Filepath, false)
	}
	// An open through a link is audited with the file it led to.
	through := linkedTo(r.Filepath)
	// The request server drops the open's attributes, so new files get OpenSSH's usual
	// 0666 less a 022 umask; clients set other modes with setstat.
	f, err := os.OpenFile(r.Filepath, flag, 0o644)
	if err != nil {
		through = "" // nothing was opened through it
	}
	s.audit("open", r.Filepath, through, strings.Join(names, ","), err)
	if err != nil {
		return nil, err
	}
	if pf.Append {
		return appendFile{f}, nil
	}
	return f, nil
}

// appendFile writes at the end whatever offset the client names, as O_APPEND does for
// OpenSSH; os.File refuses WriteAt on such files.
type appendFile struct{ *os.File }

// WriteAt appends p, ignoring the offset.
func (a appendFile) WriteAt(p []byte, _ int64) (int, error) { return a.Write(p) }

// Filecmd changes the file system.
func (s *sftpFS) Filecmd(r *sftp.Request) error {
	var err error
	path, target, flags := r.Filepath, r.Target, ""
	switch r.Method {
	case "Setstat":
		target = linkedTo(r.Filepath) // a setstat follows a link: audit where it led
		flags, err = setstat(r)
	case "Rename":
		s.l.plant(s.h, r.Target, false)
		err = renameNoReplace(r.Filepath, r.Target)
	case "Remove":
		err = pathErr("remove", r.Filepath, syscall.Unlink(r.Filepath))
	case "Rmdir":
		err = pathErr("rmdir", r.Filepath, syscall.Rmdir(r.Filepath))
	case "Mkdir":
		s.l.plant(s.h, r.Filepath, true)
		err = os.Mkdir(r.Filepath, 0o755)
	case "Link":
		err = os.Link(r.Filepath, r.Target)
		path, target = r.Target, r.Filepath
	case "Symlink":
		// The request server passes the link's content as Filepath and the link as Target.
		err = os.Symlink(r.Filepath, r.Target)
		path, target = r.Target, r.Filepath
	default:
		return sftp.ErrSSHFxOpUnsupported
	}
	s.audit(strings.ToLower(r.Method), path, target, flags, err)
	return err
}

// PosixRename renames, replacing the target atomically (posix-rename@openssh.com).
func (s *sftpFS) PosixRename(r *sftp.Request) error {
	s.l.plant(s.h, r.Target, false)
	err := os.Rename(r.Filepath, r.Target)
	s.audit("posix-rename", r.Filepath, r.Target, "", err)
	return err
}

// renameNoReplace is SFTP's plain rename, which must fail when the target exists.
func renameNoReplace(from, to string) error {
	if _, err := os.Lstat(to); err == nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: fs.ErrExist}
	}
	return os.Rename(from, to)
}

func pathErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &os.PathError{Op: op, Path: path, Err: err}
}

// setstat applies the attributes a client sent and names the ones it changed.
func setstat(r *sftp.Request) (string, error) {
	fl, a, p := r.AttrFlags(), r.Attributes(), r.Filepath
	var names []string
	if fl.Size {
		names = append(names, "size")
		if err := os.Truncate(p, int64(a.Size)); err != nil {
			return "size", err
		}
	}
	if fl.Permissions {
		names = append(names, "mode")
		if err := os.Chmod(p, a.FileMode().Perm()); err != nil {
			return strings.Join(names, ","), err
		}
	}
	if fl.UidGid {
		names = append(names, "owner")
		if err := os.Chown(p, int(a.UID), int(a.GID)); err != nil {
			return strings.Join(names, ","), err
		}
	}
	if fl.Acmodtime {
		names = append(names, "times")
		if err := os.Chtimes(p, a.AccessTime(), a.ModTime()); err != nil {
			return strings.Join(names, ","), err
		}
	}
	return strings.Join(names, ","), nil
}

// Filelist answers stat (following symbolic links, as Transport.Stat promises) and
// lists folders.
func (s *sftpFS) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	switch r.Method {
	case "Stat":
		fi, err := os.Stat(r.Filepath)
		if err != nil {
			return nil, err
		}
		return listing{fi}, nil
	case "List":
		f, err := os.Open(r.Filepath)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		// Read once when the folder is opened; the client then pages through the slice.
		fis, err := f.Readdir(-1)
		if err != nil {
			return nil, err
		}
		return listing(fis), nil
	}
	return nil, fmt.Errorf("lab: sftp method %s: %w", r.Method, sftp.ErrSSHFxOpUnsupported)
}

// Lstat answers lstat without following symbolic links.
func (s *sftpFS) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	fi, err := os.Lstat(r.Filepath)
	if err != nil {
		return nil, err
	}
	return listing{fi}, nil
}

// Readlink returns a symbolic link's content as written, relative or absolute.
func (s *sftpFS) Readlink(path string) (string, error) { return os.Readlink(path) }

// listing pages through file information for the request server.
type listing []fs.FileInfo

// ListAt copies entries from offset off into dst.
func (l listing) ListAt(dst []fs.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if int(off)+n == len(l) {
		return n, io.EOF
	}
	return n, nil
}
