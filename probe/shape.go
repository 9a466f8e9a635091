package probe

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Values with a shape (host names, addresses, paths) are checked where they enter:
// an inventory, a runbook parameter, a fact a host reports. Quoting keeps any value
// from becoming code; these checks keep a value from meaning something else (an
// option, a second line, a path with an invisible character) and say so with the
// value shown escaped.

// controlRune returns the first control character (C0, DEL or C1) in s, and false if
// there is none. A NUL, a newline or an escape sequence has no place in a name or a
// path: it would cut a command or a log line, or hide what the value says.
func controlRune(s string) (rune, bool) {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return r, true
		}
	}
	return 0, false
}

// CheckLine refuses text that is not valid UTF-8 or holds a control character other
// than tab: one line of text, such as a command line an operator gives.
func CheckLine(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%q is not valid UTF-8", s)
	}
	if r, bad := controlRune(strings.ReplaceAll(s, "\t", " ")); bad {
		return fmt.Errorf("%q contains a control character (%U)", s, r)
	}
	return nil
}

// checkText is CheckLine without tabs, refusing a leading "-" too (which a command
// would take for an option).
func checkText(s string) error {
	if strings.ContainsRune(s, '\t') {
		return fmt.Errorf("%q contains a control character (%U)", s, '\t')
	}
	if err := CheckLine(s); err != nil {
		return err
	}
	if strings.HasPrefix(s, "-") {
		return fmt.Errorf("%q starts with '-', which a command would read as an option", s)
	}
	return nil
}

// CheckHostName accepts a DNS name (labels of letters, digits, '-' and '_', none
// starting or ending with '-', at most 253 characters) or an IP address (an IPv6
// address may carry a %zone), and refuses anything else with the reason.
func CheckHostName(s string) error {
	if s == "" {
		return fmt.Errorf("empty host name")
	}
	if err := checkText(s); err != nil {
		return err
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if h, port, err := net.SplitHostPort(s); err == nil {
		return fmt.Errorf("%q includes a port (%s): give the host %q alone and the port in its own field", s, port, h)
	}
	if strings.ContainsAny(s, " \t") {
		return fmt.Errorf("%q contains a space", s)
	}
	if len(s) > 253 {
		return fmt.Errorf("%q is longer than 253 characters", s)
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fmt.Errorf("%q is not a host name or an IP address (label %q)", s, label)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("%q is not a host name or an IP address (%q in label %q)", s, r, label)
			}
		}
	}
	return nil
}

// CheckPath refuses a path that is empty, not valid UTF-8, holds a control character
// (a newline, a NUL) or starts with '-'. Every host's paths follow these rules;
// CheckInstallDir adds those of the host's shell.
func CheckPath(s string) error {
	if s == "" {
		return fmt.Errorf("empty path")
	}
	return checkText(s)
}

// CheckInstallDir checks an install folder for a host whose shell is POSIX sh
// (powershell false) or PowerShell: a path by CheckPath, absolute on that host
// (/opt/maestro; C:\Maestro or \\server\share), and on Windows without the characters
// its file names cannot hold.
func CheckInstallDir(s string, powershell bool) error {
	if err := CheckPath(s); err != nil {
		return err
	}
	if !powershell {
		if !strings.HasPrefix(s, "/") {
			return fmt.Errorf("%q is not an absolute path (it must start with /)", s)
		}
		return nil
	}
	// C:\MDaemon, \\server\share, or \MDaemon on the current drive (PowerShell takes / too).
	rest := s
	switch {
	case len(s) >= 3 && s[1] == ':' && (s[2] == '\\' || s[2] == '/') && s[0]|0x20 >= 'a' && s[0]|0x20 <= 'z':
		rest = s[2:]
	case strings.HasPrefix(s, `\\`) || strings.HasPrefix(s, "/") || strings.HasPrefix(s, `\`):
	default:
		return fmt.Errorf(`%q is not an absolute Windows path (such as C:\MDaemon or \\server\share)`, s)
	}
	if i := strings.IndexAny(rest, `<>"|?*:`); i >= 0 {
		return fmt.Errorf("%q contains %q, which Windows file names cannot hold", s, rest[i])
	}
	return nil
}
