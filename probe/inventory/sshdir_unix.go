//go:build !windows

package inventory

// systemSSHDir is where OpenSSH keeps its system-wide client files.
func systemSSHDir() string { return "/etc/ssh" }
