package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/term"

	"github.com/cutover/cutover/probe"
)

// becomePasswordEnv names the environment variable that may hold the sudo password of
// hosts that become another account. cutover reads it once at start and removes it
// from its own environment, so no command it runs on this machine inherits it.
const becomePasswordEnv = "CUTOVER_BECOME_PASSWORD"

// takeBecomePassword reads becomePasswordEnv and removes it from the environment.
func takeBecomePassword() []byte {
	v, ok := os.LookupEnv(becomePasswordEnv)
	if !ok {
		return nil
	}
	_ = os.Unsetenv(becomePasswordEnv)
	return []byte(v)
}

// becomePasswordPrompt gives the sudo password of a login account when a host's sudo
// asks for one: CUTOVER_BECOME_PASSWORD when it was set, else askSecret (the terminal
// only when terminal is true: the wizard owns the screen). sshx asks once per login
// account and run. The password goes to sudo's standard input and nowhere else.
func becomePasswordPrompt(e *env, terminal bool) func(h *probe.Host, login string) ([]byte, error) {
	return func(h *probe.Host, login string) ([]byte, error) {
		if e.becomePassword != nil {
			return bytes.Clone(e.becomePassword), nil
		}
		return askSecret(e, fmt.Sprintf("[sudo] password for %s (to become %s on %s): ", login, h.Become.Account(), h.Name), terminal,
			"no terminal to ask for it on (set "+becomePasswordEnv+" or SSH_ASKPASS, or allow the login NOPASSWD in sudoers)")
	}
}

// askSecret asks for a secret: through the program SSH_ASKPASS names when
// SSH_ASKPASS_REQUIRE is "force", or when there is no terminal (as OpenSSH does), else
// on the terminal with echo off (when terminal allows it). noWay is the error when
// neither can ask.
func askSecret(e *env, prompt string, terminal bool, noWay string) ([]byte, error) {
	tty := terminal && term.IsTerminal(int(os.Stdin.Fd()))
	askpass, require := os.Getenv("SSH_ASKPASS"), os.Getenv("SSH_ASKPASS_REQUIRE")
	if askpass != "" && require != "never" && (require == "force" || !tty) {
		cmd := exec.Command(askpass, prompt)
		cmd.Stderr = e.stderr
		out, err := cmd.Output()
		if err != nil {
			clear(out)
			return nil, fmt.Errorf("SSH_ASKPASS program %s: %w", askpass, err)
		}
		return bytes.TrimRight(out, "\r\n"), nil
	}
	if !tty {
		return nil, errors.New(noWay)
	}
	fmt.Fprint(e.stderr, prompt)
	pass, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(e.stderr)
	return pass, err
}
