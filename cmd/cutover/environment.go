package main

import "github.com/spf13/cobra"

// environmentHelp lists every environment variable cutover reads; the README's table
// says the same (TestEnvironmentDocumented keeps them together).
const environmentHelp = `cutover reads these environment variables:

  CUTOVER_JOURNALS         the journal folder (default: $XDG_STATE_HOME/cutover/journals,
                           else ~/.local/state/cutover/journals); --journal-dir wins
  XDG_STATE_HOME           where the default journal folder is
  XDG_CONFIG_HOME          the user's configuration folder on Linux (default ~/.config):
                           cutover/inventory.yaml is the inventory found without -i,
                           cutover/runbooks a folder of site runbooks
  CUTOVER_RUNBOOKS         folders of site runbooks, a path list as PATH is written;
                           --runbooks DIR comes first
  CUTOVER_PARAM_<KEY>      a runbook parameter, KEY in capitals with - and . as _
                           (CUTOVER_PARAM_DB_PASSWORD gives db_password): a secret stays
                           out of the command line; --set and --set-file win. Read at
                           start and removed, so nothing cutover runs inherits it
  CUTOVER_BECOME_PASSWORD  the sudo password of hosts that become another account
                           (become: in the inventory); read at start and removed
  SSH_AUTH_SOCK            the ssh-agent whose keys are tried first, and which --sign uses
  SSH_ASKPASS              a program that asks for a key's passphrase or a sudo password
                           when there is no terminal, as OpenSSH does
  SSH_ASKPASS_REQUIRE      "force" uses SSH_ASKPASS even on a terminal, "never" never
  HOME                     ~/.ssh (config, known_hosts, identities) and the default
                           folders above
  TZ                       cutover lab: passed to the simulated hosts, so their logs
                           carry the same zone as the operator's clock
  ProgramData              Windows: the system's OpenSSH folder (ProgramData\ssh)
  NO_COLOR, CLICOLOR, CLICOLOR_FORCE, TERM
                           the wizard's colours, as its terminal library reads them

Tests read CUTOVER_OPENSSH (make test-openssh), CUTOVER_CRASH_POINTS,
CUTOVER_CRASH_SEED and CUTOVER_CRASH_REPORT (make crash); cutover itself does not.
`

// newEnvironmentTopic is the help topic cutover help environment.
func newEnvironmentTopic(*env) *cobra.Command {
	return &cobra.Command{
		Use:     "environment",
		Short:   "the environment variables cutover reads",
		Long:    environmentHelp,
		Example: "  cutover help environment",
	}
}
