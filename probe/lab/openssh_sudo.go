//go:build linux

package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The sudo site of ServeOpenSSH (OpenSSHSudo): accounts, sudoers and folders.

// sudoersFile is the lab's drop-in; Debian's /etc/sudoers reads /etc/sudoers.d.
const sudoersFile = "/etc/sudoers.d/cutover-lab"

// setUpSudo creates the site's accounts, gives OpenSSHOperatorPassword its password and
// writes the sudoers rules, checked with visudo before they are put in place.
func (o *OpenSSH) setUpSudo() error {
	if os.Geteuid() != 0 {
		return errors.New("lab: a sudo site needs root: it creates accounts and sudoers rules")
	}
	if _, err := exec.LookPath("sudo"); err != nil {
		return errors.New("lab: a sudo site needs sudo (on Debian: apt-get install sudo)")
	}
	if o.sudo.Password == "" && len(o.sudo.AskPassword) > 0 {
		return errors.New("lab: a sudo site whose hosts ask for a password needs the password")
	}
	if strings.ContainsAny(o.sudo.Password, ":\n") {
		return errors.New("lab: the sudo password may not hold ':' or a newline")
	}
	for _, a := range []struct{ name, shell, comment string }{
		{OpenSSHService, "/usr/sbin/nologin", "cutover practice lab, owns the simulated software (OpenSSH sudo tests)"},
		{OpenSSHOperator, "/bin/sh", "cutover practice lab, operator login, sudo without password"},
		{OpenSSHOperatorPassword, "/bin/sh", "cutover practice lab, operator login, sudo with password"},
	} {
		if err := systemAccount(a.name, a.shell, a.comment); err != nil {
			return err
		}
	}
	if err := os.Chmod("/var/lib/"+OpenSSHService, 0o750); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if o.sudo.Password != "" {
		cmd := exec.Command("chpasswd")
		cmd.Stdin = strings.NewReader(OpenSSHOperatorPassword + ":" + o.sudo.Password + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("lab: setting the password of %s: %v: %s", OpenSSHOperatorPassword, err, bytes.TrimSpace(out))
		}
	}
	// The hosts' commands find the simulated software on the session's PATH, which
	// sudo would otherwise replace with its secure_path; the other variables are the
	// simulated host's identity. timestamp_timeout=0 makes every command ask again.
	rules := fmt.Sprintf(`# cutover practice lab (make test-openssh): the operator logins may become the service account.
# Written by ServeOpenSSH and removed by Close; nothing else uses these accounts.
Defaults:%[1]s, %[2]s !secure_path, !lecture, timestamp_timeout=0
Defaults:%[1]s, %[2]s env_keep += "PATH LAB_HOST LAB_ROOT LAB_DIR CUTOVER_MACHINE_ID_FILE"
%[1]s ALL=(%[3]s) NOPASSWD: ALL
%[2]s ALL=(%[3]s) ALL
`, OpenSSHOperator, OpenSSHOperatorPassword, OpenSSHService)
	tmp := filepath.Join(o.dir, "sudoers")
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := os.WriteFile(tmp, []byte(rules), 0o440); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if out, err := exec.Command("visudo", "-cf", tmp).CombinedOutput(); err != nil {
		return fmt.Errorf("lab: the lab's sudoers rules do not check: %v: %s", err, bytes.TrimSpace(out))
	}
	if err := writeFileAtomic(sudoersFile, []byte(rules), 0o440); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// handOverToService gives the hosts' folders to OpenSSHService, and makes every
// install folder 0750: the logins can walk to the hosts' roots and run their
// programs, but cannot read what the software keeps.
func (o *OpenSSH) handOverToService() error {
	if err := osshChown(filepath.Join(o.lab.dir, hostsDir), OpenSSHService, true); err != nil {
		return err
	}
	for _, h := range o.lab.hosts {
		if h.installDir == h.root {
			continue // a host without software of its own: the login works in its root
		}
		if err := os.Chmod(h.installDir, 0o750); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("lab: %w", err)
		}
	}
	return nil
}

// closeSudo removes the sudoers rules and the password.
func (o *OpenSSH) closeSudo() error {
	var errs []error
	if err := os.Remove(sudoersFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	if out, err := exec.Command("usermod", "--password", "*", OpenSSHOperatorPassword).CombinedOutput(); err != nil {
		errs = append(errs, fmt.Errorf("removing the password of %s: %v: %s", OpenSSHOperatorPassword, err, bytes.TrimSpace(out)))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}
