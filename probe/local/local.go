// Package local is the Transport for the operator's own machine: commands run with
// /bin/sh (or PowerShell where the host says so; on Windows, sh is the one on PATH, such
// as Git for Windows') and files are read directly. A runbook
// uses it as a vantage point ("can the operator's machine reach the primary?"), and unit
// tests of checks use it to work on real files without a network.
package local

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cutover/cutover/probe"
)

// Transport runs commands and touches files on this machine.
type Transport struct {
	// Dir is the working folder for commands; empty means the current one.
	Dir string
	// Env is the environment for commands; nil means this process's environment.
	Env []string
	// PowerShell runs commands with pwsh instead of /bin/sh.
	PowerShell bool
}

// Dialer returns local transports for hosts marked Local.
func Dialer() probe.Dialer {
	return probe.DialerFunc(func(_ context.Context, h *probe.Host) (probe.Transport, error) {
		return &Transport{PowerShell: h.PowerShell()}, nil
	})
}

// Run runs cmd and returns its exit code. Cancelling ctx kills the command's whole
// process group, so nothing it started lingers.
func (t *Transport) Run(ctx context.Context, cmd string, stdout, stderr io.Writer) (int, error) {
	c, err := command(t.PowerShell, cmd)
	if err != nil {
		return -1, err
	}
	c.Dir, c.Env = t.Dir, t.Env
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	c.Stdout, c.Stderr = stdout, stderr
	ownGroup(c)
	if err := c.Start(); err != nil {
		return -1, err
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		return exitCode(err)
	case <-ctx.Done():
		killGroup(c)
		<-done
		return -1, ctx.Err()
	}
}

func exitCode(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return -1, err
}

func (t *Transport) path(p string) string {
	if filepath.IsAbs(p) || t.Dir == "" {
		return p
	}
	return filepath.Join(t.Dir, p)
}

// Stat returns file information.
func (t *Transport) Stat(_ context.Context, p string) (fs.FileInfo, error) { return os.Stat(t.path(p)) }

// ReadDir lists a folder.
func (t *Transport) ReadDir(_ context.Context, p string) ([]fs.FileInfo, error) {
	entries, err := os.ReadDir(t.path(p))
	if err != nil {
		return nil, err
	}
	out := make([]fs.FileInfo, 0, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			continue // removed since listing
		}
		out = append(out, fi)
	}
	return out, nil
}

// Open opens a file for reading.
func (t *Transport) Open(_ context.Context, p string) (probe.File, error) { return os.Open(t.path(p)) }

// Create creates or truncates a file.
func (t *Transport) Create(_ context.Context, p string, perm fs.FileMode) (io.WriteCloser, error) {
	return os.OpenFile(t.path(p), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
}

// MkdirAll creates a folder and its parents.
func (t *Transport) MkdirAll(_ context.Context, p string, perm fs.FileMode) error {
	return os.MkdirAll(t.path(p), perm)
}

// Remove removes a file or empty folder.
func (t *Transport) Remove(_ context.Context, p string) error { return os.Remove(t.path(p)) }

// RemoveAll removes a tree.
func (t *Transport) RemoveAll(_ context.Context, p string) error { return os.RemoveAll(t.path(p)) }

// Rename renames a file, replacing the target.
func (t *Transport) Rename(_ context.Context, a, b string) error {
	return os.Rename(t.path(a), t.path(b))
}

// Chtimes sets file times.
func (t *Transport) Chtimes(_ context.Context, p string, atime, mtime time.Time) error {
	return os.Chtimes(t.path(p), atime, mtime)
}

// DialTCP connects from this machine.
func (t *Transport) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// Close does nothing: there is no connection.
func (t *Transport) Close() error { return nil }

// Lstat returns file information without following a link at the end of p.
func (t *Transport) Lstat(_ context.Context, p string) (fs.FileInfo, error) {
	return os.Lstat(t.path(p))
}

// ReadLink returns a symbolic link's content.
func (t *Transport) ReadLink(_ context.Context, p string) (string, error) {
	return os.Readlink(t.path(p))
}

// Mkdir creates one folder; anything at p already is an error wrapping fs.ErrExist.
func (t *Transport) Mkdir(_ context.Context, p string, perm fs.FileMode) error {
	return os.Mkdir(t.path(p), perm)
}
