package steps

import (
	"time"

	"github.com/cutover/cutover/probe"
)

// EventType names what happened.
type EventType string

// The events of a run, in the order they usually come.
const (
	EvSession      EventType = "session"       // the run's inputs; always first
	EvPlan         EventType = "plan"          // every step kept or skipped
	EvResume       EventType = "resume"        // the run was picked up again
	EvStepStart    EventType = "step_start"    // a step began (its start time anchors log gates)
	EvCheck        EventType = "check"         // a pre-check or gate result with evidence
	EvActionStart  EventType = "action_start"  // about to act: exactly what will be done
	EvActionResult EventType = "action_result" // what happened
	EvDecision     EventType = "decision"      // the operator (or a run file) decided
	EvStepEnd      EventType = "step_end"      // done, skipped or overridden
	EvRunEnd       EventType = "run_end"       // done or aborted
	EvNote         EventType = "note"          // anything else worth keeping (a lock broken)
	EvFacts        EventType = "facts"         // a host that was down at the start answers now
	EvPreflight    EventType = "preflight"     // the gates' wording checked against the hosts' history
)

// Event is one line of the journal. Exactly the fields of its type are set.
type Event struct {
	Seq      int             `json:"seq"`
	Time     time.Time       `json:"time"`
	Type     EventType       `json:"type"`
	Step     string          `json:"step,omitempty"`
	Session  *Session        `json:"session,omitempty"`
	Plan     []PlannedStep   `json:"plan,omitempty"`
	Marks    map[string]Mark `json:"marks,omitempty"`
	Check    *CheckResult    `json:"check,omitempty"`
	Action   *ActionRecord   `json:"action,omitempty"`
	Decision *Decision       `json:"decision,omitempty"`
	// Facts carries a host's facts gathered during the run (EvFacts).
	Facts *probe.Facts `json:"facts,omitempty"`
	// Preflight is what the preflight found (EvPreflight).
	Preflight *PreflightReport `json:"preflight,omitempty"`
	// Status ends a step (a StepStatus: done, skipped, overridden, aborted) or the run
	// (a RunStatus: done, aborted); see StepEnd and RunEnd.
	Status string `json:"status,omitempty"`
	// Message says why (a skip reason, an override reason) or carries a note.
	Message string `json:"message,omitempty"`
	// Prev is the SHA-256 of the previous line, chaining the journal so an edit shows.
	Prev string `json:"prev,omitempty"`
}

// StepEnd is the event that ends step with status s; msg says why (a skip or override
// reason, an abort's).
func StepEnd(step string, s StepStatus, msg string) *Event {
	return &Event{Type: EvStepEnd, Step: step, Status: string(s), Message: msg}
}

// RunEnd is the event that ends the run with status s.
func RunEnd(s RunStatus, msg string) *Event {
	return &Event{Type: EvRunEnd, Status: string(s), Message: msg}
}

// Session records a run's inputs: enough to resume, replay or audit it.
type Session struct {
	RunID   string            `json:"run_id"`
	Runbook string            `json:"runbook"`
	Title   string            `json:"title"`
	Hash    string            `json:"runbook_hash"`
	File    string            `json:"runbook_file,omitempty"`
	Roles   map[string]string `json:"roles"`
	// Params holds every parameter as text; secret ones are left out (Secret lists them).
	Params          map[string]string       `json:"params"`
	Secret          []string                `json:"secret_params,omitempty"`
	Inventory       string                  `json:"inventory,omitempty"`
	InventoryDigest string                  `json:"inventory_digest,omitempty"`
	Facts           map[string]*probe.Facts `json:"facts,omitempty"`
	Operator        string                  `json:"operator"`
	Machine         string                  `json:"machine,omitempty"`
	Version         string                  `json:"version,omitempty"`
	// Replay names the journal this run replays, if it does.
	Replay string `json:"replay_of,omitempty"`
}

// DecisionKind is what the operator chose.
type DecisionKind string

// Decisions.
const (
	Confirm  DecisionKind = "confirm"  // a manual step is done, or go ahead with the action
	Skip     DecisionKind = "skip"     // skip an optional step (reason required)
	Retry    DecisionKind = "retry"    // check again, or run a failed action again
	Override DecisionKind = "override" // accept a failed check or action (reason required)
	Accept   DecisionKind = "accept"   // an action of unknown outcome did happen: its gates pass
	Rerun    DecisionKind = "rerun"    // an action of unknown outcome did not happen: run it
	Abort    DecisionKind = "abort"    // stop the run here
)

// DecisionOn is what a decision answers.
type DecisionOn string

// What a decision answers.
const (
	OnConfirm DecisionOn = "confirm"
	OnPre     DecisionOn = "pre"
	OnAction  DecisionOn = "action"
	OnGates   DecisionOn = "gates"
	OnUnknown DecisionOn = "unknown"
	// OnPreflight answers a preflight that found a gate's wording never seen on its host.
	OnPreflight DecisionOn = "preflight"
)

// Decision is an operator's answer to a prompt.
type Decision struct {
	Kind DecisionKind `json:"kind"`
	// On says what the decision answers: a confirmation, failed pre-checks, a failed
	// action, failed gates, or an action whose outcome is unknown.
	On     DecisionOn `json:"on,omitempty"`
	Reason string     `json:"reason,omitempty"`
	// Phrase is what was typed to confirm a step that cannot be undone.
	Phrase string `json:"phrase,omitempty"`
	// Run performs a manual step with a command on a role's host (a rehearsal, a lab
	// test or a replay doing what the operator would do by hand).
	Run *AnswerRun `json:"run,omitempty"`
	By  string     `json:"by,omitempty"`
	// Via says where the decision came from: tty, runfile, replay.
	Via string `json:"via,omitempty"`
}

// AnswerRun is a command that performs a manual step.
type AnswerRun struct {
	Role    string `json:"role" yaml:"role"`
	Command string `json:"command" yaml:"command"`
}
