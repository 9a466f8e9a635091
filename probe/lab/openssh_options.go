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
	// Sudo, when set, serves a site where nobody logs in as the account that owns the
	// software (root only; see OpenSSHSudo).
	Sudo *OpenSSHSudo
}

// Accounts of a sudo site (OpenSSHSudo), created when missing.
const (
	// OpenSSHOperator logs in to the hosts whose sudo needs no password.
	OpenSSHOperator = "cutover-ops"
	// OpenSSHOperatorPassword logs in to the hosts whose sudo asks for a password.
	OpenSSHOperatorPassword = "cutover-ops-pw"
	// OpenSSHService owns the hosts' folders; the logins become it with sudo.
	OpenSSHService = "cutover-svc"
)

// OpenSSHSudo is a site as production ones are: operators log in as ordinary accounts
// (OpenSSHOperator, OpenSSHOperatorPassword), the hosts' folders belong to a service
// account (OpenSSHService) and their install folders have mode 0750, so a login
// cannot even read them, and sudo (Debian's, configured in /etc/sudoers.d) lets the
// logins become the service account. The hosts share one machine and so one sudoers:
// a host needs a password or not by its login account. The inventory has every host
// become the service account.
type OpenSSHSudo struct {
	// AskPassword names the hosts whose sudo asks for a password; the others' sudo is
	// NOPASSWD.
	AskPassword []string
	// Password is OpenSSHOperatorPassword's password while the lab runs; Close
	// removes it again.
	Password string
}
