package sshx

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
)

// windowsAgentPipe is where Windows' own OpenSSH agent service listens.
const windowsAgentPipe = `\\.\pipe\openssh-ssh-agent`

// dialAgent connects to the ssh-agent: SSH_AUTH_SOCK when set (a named pipe, or a Unix
// socket as WSL and Cygwin agents give), else Windows' OpenSSH agent service when it
// runs; nil and no error when there is none. A named pipe opened as a file carries the
// agent protocol as a socket would.
func dialAgent() (io.ReadWriteCloser, error) {
	sock := os.Getenv("SSH_AUTH_SOCK")
	switch {
	case sock == "":
		f, err := os.OpenFile(windowsAgentPipe, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil // the agent service is not running
		}
		return f, err
	case strings.HasPrefix(sock, `\\.\pipe\`):
		return os.OpenFile(sock, os.O_RDWR, 0)
	}
	return net.Dial("unix", sock)
}
