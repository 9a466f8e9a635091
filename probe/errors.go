package probe

import (
	"errors"
	"fmt"
	"strings"
)

// HostKeyProblem says why a host key was refused.
type HostKeyProblem int

const (
	// KeyUnknown means no known_hosts file has an entry for the host.
	KeyUnknown HostKeyProblem = iota + 1
	// KeyChanged means known_hosts has a different key for the host.
	KeyChanged
	// KeyRevoked means the presented key is marked @revoked.
	KeyRevoked
)

// HostKeyError is returned when a host's key cannot be verified. Unknown and changed keys
// get different messages on purpose: one is routine, the other may be an attack.
type HostKeyError struct {
	Host       string // inventory name
	Addr       string // host:port dialled
	Problem    HostKeyProblem
	Presented  string   // "ssh-ed25519 SHA256:..." as the host offered it
	Known      []string // keys on file for the host, same form, with file:line
	Files      []string // known_hosts files consulted
	KnownHosts string   // the host pattern to use in known_hosts ("[127.0.0.1]:2201")
}

// Error says which host key was refused and how to fix it.
func (e *HostKeyError) Error() string {
	files := strings.Join(e.Files, ", ")
	if files == "" {
		files = "(no known_hosts file)"
	}
	switch e.Problem {
	case KeyChanged:
		return fmt.Sprintf("HOST KEY CHANGED for %s (%s): known_hosts has %s but the host presented %s. "+
			"Someone may be intercepting the connection, or the host was reinstalled. cutover will not connect. "+
			"Confirm the new key on the host's console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then remove the old entry "+
			"with: ssh-keygen -R '%s' -f <file>",
			e.Host, e.Addr, strings.Join(e.Known, "; "), e.Presented, e.KnownHosts)
	case KeyRevoked:
		return fmt.Sprintf("host key for %s (%s) is revoked in %s: %s. cutover will not connect.", e.Host, e.Addr, files, e.Presented)
	default:
		return fmt.Sprintf("host key for %s (%s) is unknown: %s is not in %s. "+
			"If this is the right host, compare the fingerprint with the host's console and add it: "+
			"ssh-keyscan -p %s %s >> <known_hosts>, or connect once with ssh and accept it.",
			e.Host, e.Addr, e.Presented, files, portOf(e.Addr), hostOf(e.Addr))
	}
}

func hostOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i > 0 {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i > 0 {
		return addr[i+1:]
	}
	return "22"
}

// UnreachableError is returned when a host cannot be connected to or authenticated
// with, or stops answering.
type UnreachableError struct {
	Host string
	Addr string
	Err  error
}

// Error names the host and why it could not be reached.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s (%s) unreachable: %v", e.Host, e.Addr, e.Err)
}

// Unwrap returns the network or SSH error underneath.
func (e *UnreachableError) Unwrap() error { return e.Err }

// BecomeError is returned when sudo did not let the login account become the host's
// Become account: the command or file operation did not start. It is not a
// connection error: the host answers, and the fix is in sudo's configuration, the
// password or the inventory.
type BecomeError struct {
	Host  string // inventory name
	Login string // the SSH login account
	User  string // the account to become
	// Reason is what went wrong, in sudo's own words where it said any.
	Reason string
}

// Error names the host, both accounts and the reason.
func (e *BecomeError) Error() string {
	return fmt.Sprintf("%s: cannot become %s with sudo (login %s): %s", e.Host, e.User, e.Login, e.Reason)
}

// IsConnectionError reports whether err means a host could not be reached or its key was
// refused: the cases that end a run with exit code 4.
func IsConnectionError(err error) bool {
	var hk *HostKeyError
	var ue *UnreachableError
	return errors.As(err, &hk) || errors.As(err, &ue)
}
