package steps

import (
	"encoding/json"
	"fmt"
	"time"
)

// Status is the outcome of a check.
type Status string

// Check outcomes. Error means the check could not tell (a host did not answer, a file
// could not be read); it blocks the step like a failure but is reported differently.
// Warn is a failed check marked advice: shown and journaled with its evidence, it never
// blocks (a vendor's advice, such as alike hardware, is the site's call).
const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Error   Status = "error"
	Skipped Status = "skipped"
	Warn    Status = "warn"
)

// Phase says when a check is looked at: before a step's action (its pre-checks), after
// it (its gates), or before the run changes anything (the preflight's look at a gate's
// wording in the hosts' history). Journals spell it "pre", "gate" and "preflight".
type Phase string

// The phases of a check.
const (
	PhasePre       Phase = "pre"
	PhaseGate      Phase = "gate"
	PhasePreflight Phase = "preflight"
)

// Label is what a check of the phase is called wherever one is shown: headless output,
// the wizard's step and evidence views, and the exported checklist.
func (p Phase) Label() string {
	switch p {
	case PhasePre:
		return "pre-check"
	case PhasePreflight:
		return "preflight check"
	}
	return "gate"
}

// CheckResult is one evaluation of a check, with the evidence behind it.
type CheckResult struct {
	// Phase is PhasePre or PhaseGate (PhasePreflight in a preflight's report); Index is
	// the check's place in that list.
	Phase Phase  `json:"phase"`
	Index int    `json:"index"`
	Kind  string `json:"kind"`
	Name  string `json:"name"`

	Status  Status `json:"status"`
	Summary string `json:"summary"`
	// Evidence is what the host showed: matched log lines, values, paths and times.
	Evidence []string `json:"evidence,omitempty"`
	// Hosts are the inventory hosts the check looked at.
	Hosts []string `json:"hosts,omitempty"`
	// Attempts and Waited describe a waiting gate's polling.
	Attempts int    `json:"attempts,omitempty"`
	Waited   Millis `json:"waited_ms,omitempty"`
	// Unreachable is set when the check could not reach a host (exit code 4 territory).
	Unreachable bool      `json:"unreachable,omitempty"`
	At          time.Time `json:"at"`
	// Final marks a failure that waiting cannot cure (an error line already in a log), so
	// a waiting gate stops at once instead of polling until its timeout.
	Final bool `json:"-"`
}

// OK reports whether the check lets the step go on: it passed, did not apply, or only
// warned.
func (r *CheckResult) OK() bool { return r.Status == Pass || r.Status == Skipped || r.Status == Warn }

// Millis is a duration stored as milliseconds in JSON.
type Millis time.Duration

// MarshalJSON writes whole milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(m).Milliseconds())
}

// UnmarshalJSON reads milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	var v int64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = Millis(time.Duration(v) * time.Millisecond)
	return nil
}

// ActionRecord describes an action: its inputs when it starts, its outcome when done.
type ActionRecord struct {
	Kind    string `json:"kind"`
	Summary string `json:"summary"`
	// Hosts are the inventory hosts it acts on.
	Hosts []string `json:"hosts,omitempty"`
	// Commands are the exact commands run, per host ("hub: maestroctl stop").
	Commands []string `json:"commands,omitempty"`
	// Answer marks a manual step performed by a command from a run file or replay.
	Answer bool `json:"answer,omitempty"`

	// Outcome fields, set on the result event.
	OK       bool     `json:"ok"`
	ExitCode *int     `json:"exit_code,omitempty"`
	Output   []string `json:"output,omitempty"`  // the last lines, secrets removed
	Changes  []string `json:"changes,omitempty"` // INI diff lines, files copied, and so on
	Error    string   `json:"error,omitempty"`
	Bytes    int64    `json:"bytes,omitempty"`
	Files    int      `json:"files,omitempty"`
	Elapsed  Millis   `json:"elapsed_ms,omitempty"`
	// Unreachable is set when the action failed because a host could not be reached.
	Unreachable bool `json:"unreachable,omitempty"`
	// Undo says how to undo each change the action made, in the order made (set on the
	// result event; see Undo).
	Undo []Undo `json:"undo,omitempty"`
	// Unknown is set when the connection died while the action was under way on a host
	// (a command sent, a file being written): what it did there is not known, so the
	// run treats it like an action whose result was never recorded. A host that could
	// not be reached before anything was sent to it is Unreachable only.
	Unknown bool `json:"outcome_unknown,omitempty"`
}

// Mark is a file's size when a step started, so a log gate reads only what was written
// since then.
type Mark struct {
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
}

// WaitKey names a waiting check of a step ("start-maestro/gate/0"), so a front end can
// keep the latest Progress of each while it polls.
func WaitKey(step string, phase Phase, index int) string {
	return fmt.Sprintf("%s/%s/%d", step, phase, index)
}

// Progress is live information the journal does not keep: output lines of a running
// command, bytes copied, a waiting gate's countdown.
type Progress struct {
	Step string
	// Line is a line of command output (with Host), or a status note.
	Line string
	Host string
	// Copy progress.
	Done, Total int64
	// Gate polling: which gate, the attempt, the time left and the last result.
	Phase     Phase
	Gate      int
	Attempt   int
	Remaining time.Duration
	Last      *CheckResult
}
