//go:build !linux

package lab

import (
	"errors"
	"runtime"
)

// OpenSSH is a lab served by sshd instances; on this system there are none.
type OpenSSH struct{}

// ServeOpenSSH is only available on Linux: it relies on Linux process control (the
// sshd instances die with the lab) and on /proc. cutover itself, and the lab's own SSH
// server, work everywhere.
func (l *Lab) ServeOpenSSH(OpenSSHOptions) (*OpenSSH, error) {
	return nil, errors.New("serving the lab with OpenSSH's sshd needs Linux, not " + runtime.GOOS)
}

// Close does nothing.
func (o *OpenSSH) Close() error { return nil }
