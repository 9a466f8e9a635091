package probe

import (
	"context"
	"io"
	"io/fs"
)

// ExclusiveCreator is implemented by transports that can create a file only if nothing
// exists at its path yet, atomically on the host (open with O_CREAT|O_EXCL). Host locks
// need it: of two operators creating the same lock file at once, exactly one succeeds.
//
// It is a separate interface rather than part of Transport so that transports which
// cannot do it (and test fakes) keep working for everything else; a lock on such a
// host is refused with a message instead of being taken unsafely.
type ExclusiveCreator interface {
	// CreateExclusive creates path for writing with permissions perm; when something
	// exists at path already, the error wraps fs.ErrExist.
	CreateExclusive(ctx context.Context, path string, perm fs.FileMode) (io.WriteCloser, error)
}
