//go:build !windows

package sshx

import (
	"io"
	"net"
	"os"
)

// dialAgent connects to the ssh-agent at SSH_AUTH_SOCK; nil and no error when none is
// set.
func dialAgent() (io.ReadWriteCloser, error) {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, nil
	}
	return net.Dial("unix", sock)
}
