package local

import (
	"context"
	"io"
	"io/fs"
	"os"

	"github.com/cutover/cutover/probe"
)

var _ probe.ExclusiveCreator = (*Transport)(nil)

// CreateExclusive creates a file that must not exist yet (O_EXCL); an existing one
// gives an error wrapping fs.ErrExist.
func (t *Transport) CreateExclusive(_ context.Context, p string, perm fs.FileMode) (io.WriteCloser, error) {
	return os.OpenFile(t.path(p), os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
}
