package main

import (
	"os"
	"strings"

	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// recorded is a journal read back with what it was a run of: the fold of its events
// and its runbook (shipped, or the site's own file the session names).
type recorded struct {
	j  *journal.Journal
	st *steps.RunState
	rb *steps.Runbook
}

// readRecorded reads the journal at path; any problem is bad input.
func readRecorded(path string) (*recorded, error) {
	r, err := journal.Load(path, sessionRunbook)
	if err != nil {
		return nil, badInput{err}
	}
	return &recorded{j: r.Journal, st: r.State, rb: r.Runbook}, nil
}

// sessionRunbook finds the runbook a recorded session ran: a shipped one, or the
// site's own file the session names.
func sessionRunbook(s *steps.Session) (*steps.Runbook, error) {
	rb, err := runbooks.Get(s.Runbook)
	if err != nil && s.File != "" {
		rb, err = runbooks.LoadFile(s.File)
	}
	return rb, err
}

// inventory loads the inventory named by -i, else the one the run recorded.
func (r *recorded) inventory(flag string) (*inventory.Inventory, error) {
	if flag == "" {
		flag = r.st.Session.Inventory
		switch _, err := os.Stat(flag); {
		case flag == "":
			return nil, bad("the journal names no inventory: give -i INVENTORY")
		case strings.HasPrefix(flag, inventory.SSHPrefix):
			// ssh:ALIAS,... is resolved through ssh_config again, not read from a file.
		case err != nil:
			return nil, bad("the recorded inventory %s is gone: give -i INVENTORY", flag)
		}
	}
	return loadInventory(flag)
}

// parseRecorded checks a resume or replay command line, whose one positional argument
// is the journal of the run to take up again, and reads that journal.
func parseRecorded(rf *runFlags, pos []string, verb string) (string, *recorded, error) {
	if err := rf.check(); err != nil {
		return "", nil, err
	}
	if len(pos) != 1 {
		return "", nil, bad("give the journal file of the run to %s", verb)
	}
	rec, err := readRecorded(pos[0])
	return pos[0], rec, err
}
