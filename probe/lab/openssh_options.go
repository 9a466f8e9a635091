package lab

// OpenSSHUser is the account the lab's sshd instances log in as when cutover runs as
// root. ServeOpenSSH creates it when it is missing.
const OpenSSHUser = "cutover-lab"

// OpenSSHOptions control ServeOpenSSH.
type OpenSSHOptions struct {
	// Sshd is the sshd program; empty means /usr/sbin/sshd. It must be an absolute path
	// (sshd re-executes itself for every connection).
	Sshd string
	// User is the login account. Empty means OpenSSHUser when running as root (created
	// if missing), otherwise the current user, whose login shell then runs the sessions'
	// commands (and whatever start-up files that shell reads).
	User string
	// HostsPerServer is how many hosts one sshd instance serves, 1 to 16. Zero or 1 gives
	// every host its own instance and so its own host keys; larger values share an
	// instance (and its keys) between hosts, for benchmarks with hundreds of hosts.
	HostsPerServer int
	// LogLevel is sshd's LogLevel; empty means VERBOSE, which logs each connection's
	// local port, so Logins can count connections per host.
	LogLevel string
}
