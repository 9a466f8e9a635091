// Package probe holds what cutover knows about hosts: the inventory entry (Host), the
// facts a probe gathers (Facts), and the Transport interface through which every other
// package reaches a host. Implementations live below it: sshx (OpenSSH-compatible
// client), local (the operator's own machine) and lab (the practice lab's server side).
//
// Keeping the interfaces here, and nothing but the standard library, lets the engine and
// its tests depend on behaviour rather than on x/crypto/ssh.
package probe

import (
	"context"
	"io"
	"io/fs"
	"net"
	"time"
)

// Transport is everything cutover does on a host: run a command, work with files, and
// open a TCP connection as seen from that host. Paths are the host's own, slash
// separated; relative paths are resolved by the caller against Host.InstallDir.
//
// Errors for missing files wrap fs.ErrNotExist. A command that runs and exits non-zero
// is not an error: Run returns its exit code and a nil error.
type Transport interface {
	// Run runs cmd with the host's shell, streaming output to stdout and stderr (either may
	// be nil). Cancelling ctx stops waiting and asks the host to end the command.
	Run(ctx context.Context, cmd string, stdout, stderr io.Writer) (exitCode int, err error)

	// Stat returns file information, following symbolic links.
	Stat(ctx context.Context, path string) (fs.FileInfo, error)
	// Lstat returns file information without following a symbolic link at the end of
	// path: a link is reported as one (fs.ModeSymlink), so a writer can tell a planted
	// link from the file it expects.
	Lstat(ctx context.Context, path string) (fs.FileInfo, error)
	// ReadLink returns what a symbolic link points to, as written in the link (relative
	// or absolute).
	ReadLink(ctx context.Context, path string) (string, error)
	// ReadDir lists a folder, without "." and "..", in no particular order.
	ReadDir(ctx context.Context, path string) ([]fs.FileInfo, error)
	// Open opens a file for reading; the File supports random access so a check can read
	// the end of a large log without transferring the rest.
	Open(ctx context.Context, path string) (File, error)
	// Create creates or truncates a file for writing.
	Create(ctx context.Context, path string, perm fs.FileMode) (io.WriteCloser, error)
	// MkdirAll creates a folder and any missing parents.
	MkdirAll(ctx context.Context, path string, perm fs.FileMode) error
	// Mkdir creates one folder with permissions perm. It never reuses what is there:
	// when anything exists at path (a folder, a file, a symbolic link) the error wraps
	// fs.ErrExist, so a folder cutover creates is its own.
	Mkdir(ctx context.Context, path string, perm fs.FileMode) error
	// Remove removes a file or an empty folder.
	Remove(ctx context.Context, path string) error
	// RemoveAll removes a path and everything below it; a missing path is not an error.
	RemoveAll(ctx context.Context, path string) error
	// Rename renames oldpath to newpath, replacing a file at newpath atomically where the
	// host's file system allows it.
	Rename(ctx context.Context, oldpath, newpath string) error
	// Chtimes sets access and modification times, so copies keep the source's times.
	Chtimes(ctx context.Context, path string, atime, mtime time.Time) error

	// DialTCP opens a TCP connection to addr from the host (not from the operator's
	// machine), which is what "the new server reaches the database" means.
	DialTCP(ctx context.Context, addr string) (net.Conn, error)

	// Close releases the connection. Further calls fail.
	Close() error
}

// File is a remote file opened for reading.
type File interface {
	io.Reader
	io.ReaderAt
	io.Closer
	Stat() (fs.FileInfo, error)
}

// Dialer connects to a host from the inventory.
type Dialer interface {
	Dial(ctx context.Context, h *Host) (Transport, error)
}

// Broken is implemented by transports that can tell their connection is gone (for
// example a keepalive went unanswered), so a Pool dials again instead of reusing it.
type Broken interface {
	Broken() error
}

// Identified is implemented by transports that verified the host's key: the key tells
// whether two inventory names are one machine.
type Identified interface {
	HostKey() string
}

// PinnedKey is implemented by transports that verified the host's key against the
// operator's known_hosts: VerifiedHostKey returns that key as "TYPE BASE64", so another
// host's SSH client can be told to accept exactly this key and nothing else.
type PinnedKey interface {
	VerifiedHostKey() string
}

// Timed is implemented by transports that measured how long it took to reach the host.
type Timed interface {
	Timing() Timing
}

// Timing is how long each phase of reaching a host took.
type Timing struct {
	Dial time.Duration `json:"dial_ms"`
	Auth time.Duration `json:"auth_ms"`
	Exec time.Duration `json:"exec_ms"`
}
