package probe

import (
	"net"
	"path"
	"strconv"
	"strings"
)

// Host is one inventory entry: how to reach a machine and what cutover needs to know
// about it before probing (install folder, service commands, shell).
type Host struct {
	// Name is the inventory name; roles are bound to it.
	Name string
	// Address is the DNS name or IP address to connect to.
	Address string
	// Port is the SSH port (22 when the inventory gives none).
	Port int
	// User is the login name.
	User string
	// IdentityFiles are private keys to offer, in order, after any ssh-agent keys.
	IdentityFiles []string
	// KnownHosts are the known_hosts files that verify this host's key.
	KnownHosts []string
	// Jump names the hosts to pass through, in order (ProxyJump).
	Jump []*Host
	// InstallDir is the folder relative paths in runbooks resolve against.
	InstallDir string
	// Shell is "sh" (POSIX, the default) or "powershell".
	Shell string
	// Local marks the operator's own machine: reached without SSH.
	Local bool
	// Services maps a service name ("maestro") to its control commands.
	Services map[string]Service
	// Vars are free-form settings a runbook may read.
	Vars map[string]string
	// Groups are the inventory groups the host belongs to.
	Groups []string
	// Become, when set, runs the host's commands and file operations as another
	// account through sudo; the SSH login stays User.
	Become *Become
}

// Become is privilege escalation on a host, as Ansible's become with the sudo method:
// commands run as "sudo -u USER /bin/sh -c COMMAND", and file operations through an
// SFTP server started the same way on the host's connection. sudo is the only method:
// inventories that name another are refused when they load.
type Become struct {
	// User is the account to become; empty means root.
	User string
	// Password is the login account's sudo password when the inventory gives one
	// (become_password, ansible_become_password); empty means sudo is expected not to
	// ask (NOPASSWD) or the password is asked for when it does.
	Password string `json:"-"`
	// SFTPServer is the sftp-server program to start under sudo; empty means the one
	// sshd_config names, else the first of the usual places that exists.
	SFTPServer string
}

// Account is the account Become runs as: User, or root.
func (b Become) Account() string {
	if b.User == "" {
		return "root"
	}
	return b.User
}

// String says what the host becomes, never the password.
func (b Become) String() string { return "sudo as " + b.Account() }

// Service holds the commands that control one service on a host. Status follows the LSB
// convention: exit 0 means running, 3 means stopped, anything else is unknown.
type Service struct {
	Start  string `json:"start"`
	Stop   string `json:"stop"`
	Status string `json:"status"`
}

// Addr is the host's SSH address as host:port.
func (h *Host) Addr() string {
	port := h.Port
	if port == 0 {
		port = 22
	}
	// "[::1]" is how an IPv6 address is often written; JoinHostPort adds the brackets.
	return net.JoinHostPort(strings.Trim(h.Address, "[]"), strconv.Itoa(port))
}

// PowerShell reports whether commands on the host run under PowerShell.
func (h *Host) PowerShell() bool { return strings.EqualFold(h.Shell, "powershell") }

// Resolve turns a runbook path into the host's own path: absolute paths stay, relative
// ones are joined to the install folder. Remote paths always use forward slashes; SFTP
// servers on Windows accept them too.
func (h *Host) Resolve(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if IsAbs(p) || h.InstallDir == "" {
		return p
	}
	return path.Join(strings.ReplaceAll(h.InstallDir, `\`, "/"), p)
}

// IsAbs reports whether p is absolute on a POSIX or Windows host ("/x", "C:/x").
func IsAbs(p string) bool {
	if strings.HasPrefix(p, "/") {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '/' || p[2] == '\\')
}
