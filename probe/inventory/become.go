package inventory

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/yamlpos"
)

// Privilege escalation settings, in cutover's YAML (become, become_user,
// become_method, become_password, sftp_server) and Ansible's variables
// (ansible_become, ansible_become_user, ansible_become_method,
// ansible_become_password, the older ansible_sudo_*, and cutover_sftp_server). sudo
// is the only method: any other is refused where it is written, never ignored.

// becomeSpec is what an inventory says about becoming another account on one host,
// with where each setting was written.
type becomeSpec struct {
	on, onSet            bool // become: true; become given at all
	onPos                yamlpos.Pos
	user, method, exe    string
	userPos, methodPos   yamlpos.Pos
	exePos               yamlpos.Pos
	password             string
	passwordPos          yamlpos.Pos
	passwordKey          string // the variable or key that gave it
	flags                string
	flagsPos             yamlpos.Pos
	sftpServer           string
	sftpServerPos        yamlpos.Pos
	userSet, passwordSet bool
	methodSet, sftpSet   bool
	flagsSet, exeSet     bool
}

// apply checks the settings and sets h.Become; problems go to errs.
func (b *becomeSpec) apply(h *probe.Host, errs *yamlpos.List) {
	if b.methodSet && !strings.EqualFold(b.method, "sudo") {
		errs.Add(b.methodPos, "become method %q of %s: cutover becomes another account with sudo only (su, pbrun, pfexec, doas, dzdo, ksu, runas and machinectl are not supported)", b.method, h.Name)
		return
	}
	if b.exeSet && b.exe != "sudo" && !strings.HasSuffix(b.exe, "/sudo") {
		errs.Add(b.exePos, "become program %q of %s: cutover runs sudo", b.exe, h.Name)
		return
	}
	if b.flagsSet {
		for _, f := range strings.Fields(b.flags) {
			if f != "-H" && f != "-S" && f != "-n" {
				errs.Add(b.flagsPos, "become flags %q of %s: cutover runs sudo -S with a prompt of its own and accepts only -H, -S and -n here (%s changes what sudo does)", b.flags, h.Name, f)
				return
			}
		}
	}
	if !b.on {
		if b.onSet {
			return // told not to: whatever else is set is for when it is turned on
		}
		switch {
		case b.userSet:
			errs.Add(b.userPos, "host %s names a become user (%s) but does not become it: add become: true (ansible_become: true); cutover has no playbooks to turn it on", h.Name, b.user)
		case b.passwordSet:
			errs.Add(b.passwordPos, "host %s has a become password but does not become another account: add become: true (ansible_become: true)", h.Name)
		}
		return
	}
	switch {
	case h.Local:
		errs.Add(b.onPos, "host %s is local and becomes another account: cutover does not run sudo on the operator's machine (give the host become: false, ansible_become=false, or run cutover itself as that account)", h.Name)
		return
	case h.PowerShell():
		errs.Add(b.onPos, "host %s is a Windows (PowerShell) host and becomes another account: cutover cannot; log in as an account that is a member of the host's Administrators group instead", h.Name)
		return
	}
	if b.userSet {
		if err := validAccount(b.user); err != nil {
			errs.Add(b.userPos, "become user %q of %s: %v", b.user, h.Name, err)
			return
		}
	}
	if b.sftpSet && !strings.HasPrefix(b.sftpServer, "/") {
		errs.Add(b.sftpServerPos, "sftp_server %q of %s: expected an absolute path on the host, such as /usr/lib/openssh/sftp-server", b.sftpServer, h.Name)
		return
	}
	if b.passwordSet {
		if strings.Contains(b.password, "{{") {
			errs.Add(b.passwordPos, "%s of %s is a Jinja template: cutover does not evaluate templates (give the password through CUTOVER_BECOME_PASSWORD or the prompt)", b.passwordKey, h.Name)
			return
		}
		if err := privateFile(b.passwordPos.File); err != nil {
			errs.Add(b.passwordPos, "%s of %s: %v", b.passwordKey, h.Name, err)
			return
		}
	}
	h.Become = &probe.Become{User: b.user, Password: b.password, SFTPServer: b.sftpServer}
}

// validAccount checks an account name: letters, digits, ".", "_" and "-" (and a
// final "$", as Samba machine accounts have), not starting with "-".
func validAccount(s string) error {
	if s == "" {
		return fmt.Errorf("empty")
	}
	if s[0] == '-' {
		return fmt.Errorf("starts with '-'")
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' ||
			r == '$' && i == len(s)-1
		if !ok {
			return fmt.Errorf("only letters, digits, '.', '_' and '-' are allowed in an account name")
		}
	}
	return nil
}

// privateFile refuses a file that holds a password and that others may read, as
// OpenSSH refuses such a private key.
func privateFile(path string) error {
	if path == "" || runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil // not a file of ours (ansible-inventory's output)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s holds a password and others can read it (mode %04o): chmod 600 %s, or give the password through CUTOVER_BECOME_PASSWORD or the prompt", path, perm, path)
	}
	return nil
}

// ansibleBool reads a boolean the way Ansible does: yes/no, true/false, on/off, 1/0,
// y/n, t/f (any case).
func ansibleBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case nil:
		return false, true
	case int64:
		return x != 0, x == 0 || x == 1
	case uint64:
		return x != 0, x == 0 || x == 1
	}
	switch strings.ToLower(strings.TrimSpace(scalar(v))) {
	case "yes", "true", "on", "1", "y", "t":
		return true, true
	case "no", "false", "off", "0", "n", "f", "":
		return false, true
	}
	return false, false
}

// ansibleBecome reads the become variables of a host.
func (a *ansInv) ansibleBecome(name string, vars map[string]ansVar) *becomeSpec {
	b := &becomeSpec{}
	get := func(keys ...string) (ansVar, string, bool) {
		for _, k := range keys {
			if v, ok := vars[k]; ok {
				return v, k, true
			}
		}
		return ansVar{}, "", false
	}
	for _, k := range []string{"ansible_su", "ansible_su_user", "ansible_su_pass", "ansible_su_password", "ansible_su_exe"} {
		if v, ok := vars[k]; ok {
			b.methodSet, b.method, b.methodPos = true, "su", v.pos
		}
	}
	if v, k, ok := get("ansible_become", "ansible_sudo"); ok {
		on, valid := ansibleBool(v.val)
		if !valid {
			a.errs.Add(v.pos, "%s of %s is %q: expected true or false", k, name, scalar(v.val))
		}
		b.on, b.onPos, b.onSet = on, v.pos, true
		if k == "ansible_sudo" && !b.methodSet {
			b.methodSet, b.method, b.methodPos = true, "sudo", v.pos
		}
	}
	if v, _, ok := get("ansible_become_method"); ok {
		b.methodSet, b.method, b.methodPos = true, scalar(v.val), v.pos
	}
	if v, _, ok := get("ansible_become_user", "ansible_sudo_user"); ok {
		b.userSet, b.user, b.userPos = true, scalar(v.val), v.pos
	}
	if v, k, ok := get("ansible_become_password", "ansible_become_pass", "ansible_sudo_pass", "ansible_sudo_password"); ok {
		b.passwordSet, b.password, b.passwordPos, b.passwordKey = true, scalar(v.val), v.pos, k
	}
	if v, _, ok := get("ansible_become_exe", "ansible_sudo_exe"); ok {
		b.exeSet, b.exe, b.exePos = true, scalar(v.val), v.pos
	}
	if v, _, ok := get("ansible_become_flags", "ansible_sudo_flags"); ok {
		b.flagsSet, b.flags, b.flagsPos = true, scalar(v.val), v.pos
	}
	if v, _, ok := get("cutover_sftp_server"); ok {
		b.sftpSet, b.sftpServer, b.sftpServerPos = true, scalar(v.val), v.pos
	}
	if b.onPos.IsZero() {
		b.onPos = b.userPos
	}
	return b
}
