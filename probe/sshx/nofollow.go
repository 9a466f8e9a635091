package sshx

import (
	"context"
	"io/fs"
	"syscall"
)

// Lstat returns file information without following a symbolic link at the end of p.
func (t *transport) Lstat(ctx context.Context, p string) (fs.FileInfo, error) {
	c, err := t.files(ctx)
	if err != nil {
		return nil, err
	}
	fi, err := c.Lstat(p)
	return fi, t.fsErr("lstat", p, err)
}

// ReadLink returns a symbolic link's content.
func (t *transport) ReadLink(ctx context.Context, p string) (string, error) {
	c, err := t.files(ctx)
	if err != nil {
		return "", err
	}
	s, err := c.ReadLink(p)
	return s, t.fsErr("readlink", p, err)
}

// Mkdir creates one folder. SFTP's mkdir fails on anything that exists (mkdir(2) does
// not follow a link there); version 3 has no status for "exists", so a refusal is told
// apart by looking at the path, as CreateExclusive does. The mode is set after a look
// that the new entry is still a folder (the server ignores the one sent with mkdir).
func (t *transport) Mkdir(ctx context.Context, p string, perm fs.FileMode) error {
	c, err := t.files(ctx)
	if err != nil {
		return err
	}
	if err := c.Mkdir(p); err != nil {
		if _, serr := c.Lstat(p); serr == nil {
			return &fs.PathError{Op: "mkdir", Path: p, Err: fs.ErrExist}
		}
		return t.fsErr("mkdir", p, err)
	}
	fi, err := c.Lstat(p)
	if err != nil {
		return t.fsErr("mkdir", p, err)
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "mkdir", Path: p, Err: syscall.ENOTDIR}
	}
	return t.fsErr("chmod", p, c.Chmod(p, perm))
}
