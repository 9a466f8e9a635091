package sshx

import (
	"context"
	"io"
	"io/fs"
	"os"

	"github.com/cutover/cutover/probe"
)

var _ probe.ExclusiveCreator = (*transport)(nil)

// CreateExclusive creates a file over SFTP with SSH_FXF_EXCL, so the server refuses it
// when the path exists: of two clients creating it at once exactly one succeeds. SFTP
// version 3 has no status for "exists" (OpenSSH answers a plain failure), so a refused
// open is told apart by looking at the path: something there means fs.ErrExist.
func (t *transport) CreateExclusive(ctx context.Context, p string, perm fs.FileMode) (io.WriteCloser, error) {
	c, err := t.files(ctx)
	if err != nil {
		return nil, err
	}
	f, err := c.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		if _, serr := c.Lstat(p); serr == nil {
			return nil, &fs.PathError{Op: "create", Path: p, Err: fs.ErrExist}
		}
		return nil, t.fsErr("create", p, err)
	}
	if err := f.Chmod(perm); err != nil {
		_ = f.Close()
		return nil, t.fsErr("chmod", p, err)
	}
	return f, nil
}
