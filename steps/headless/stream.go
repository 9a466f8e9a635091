package headless

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/steps"
)

// StreamFormat is the version of the --json event stream's format: the first record
// names it, and it changes when a record changes in a way a reader would notice
// (a key renamed or removed, a meaning changed). Adding a key does not change it.
const StreamFormat = 1

// Record types of the event stream besides the journal's events (steps.EventType).
const (
	// RecStream opens the stream: its format version and the program's.
	RecStream = "stream"
	// RecProgress reports a long copy or wait; never journaled.
	RecProgress = "progress"
	// RecStreamEnd closes the stream, however the command stopped.
	RecStreamEnd = "stream_end"
)

// Outcomes of a stream's terminal record, one per way a run stops.
const (
	OutcomeDone          = "done"
	OutcomeGateFailed    = "gate_failed"
	OutcomeNeedsOperator = "needs_operator"
	OutcomeInterrupted   = "interrupted"
	OutcomeUnreachable   = "unreachable"
	OutcomeBadInput      = "bad_input"
)

// StreamStart is the first record of an event stream.
type StreamStart struct {
	Type          string    `json:"type"`
	FormatVersion int       `json:"format_version"`
	Version       string    `json:"cutover_version"`
	Command       string    `json:"command"`
	Time          time.Time `json:"time"`
}

// StreamEnd is the last record of an event stream: how the command stopped and how to
// go on. Step is the step it stopped at (empty when it stopped before the first or
// after the last); Resume is the command that continues the run (empty when there is
// nothing to continue: the run is over, or it never started).
type StreamEnd struct {
	Type     string    `json:"type"`
	Time     time.Time `json:"time"`
	Outcome  string    `json:"outcome"`
	Reason   string    `json:"reason"`
	Step     string    `json:"step,omitempty"`
	ExitCode int       `json:"exit_code"`
	Journal  string    `json:"journal,omitempty"`
	Resume   string    `json:"resume,omitempty"`
}

// Outcome names how a command stopped, from its exit code and, for exit 1, the
// question left unanswered: a failed check is a gate that failed, anything else (a
// manual step, a failed action, an action of unknown outcome) needs an operator.
func Outcome(code int, prompt *steps.Prompt) string {
	switch code {
	case ExitDone:
		return OutcomeDone
	case ExitBadInput:
		return OutcomeBadInput
	case ExitInterrupted:
		return OutcomeInterrupted
	case ExitUnreachable:
		return OutcomeUnreachable
	}
	if prompt != nil && prompt.Kind != steps.AskCheckFailed {
		return OutcomeNeedsOperator
	}
	return OutcomeGateFailed
}

// Start writes the stream's first record (JSON only; the text form names the run on
// its session line).
func (p *Printer) Start(command, version string) {
	if !p.JSON {
		return
	}
	p.record(StreamStart{Type: RecStream, FormatVersion: StreamFormat, Version: version, Command: command, Time: time.Now().UTC()})
}

// End writes the stream's terminal record, once (JSON only: the text form says the
// same on standard error). An empty end.Step is filled with the step the stream last
// reported.
func (p *Printer) End(end StreamEnd) {
	if !p.JSON {
		return
	}
	p.mu.Lock()
	if p.ended {
		p.mu.Unlock()
		return
	}
	p.ended = true
	if end.Step == "" && !p.runEnded {
		end.Step = p.lastStep
	}
	p.mu.Unlock()
	end.Type, end.Time = RecStreamEnd, time.Now().UTC()
	end.Reason = hosttext.Line(end.Reason)
	p.record(end)
}

// note keeps what the terminal record needs from each event.
func (p *Printer) note(ev *steps.Event) {
	switch ev.Type {
	case steps.EvStepStart:
		p.lastStep = ev.Step
	case steps.EvStepEnd:
		p.lastStep = ""
	case steps.EvRunEnd:
		p.runEnded = true
	}
}

// record writes one record as a line of JSON, safe for a terminal as Event is.
func (p *Printer) record(v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writeRecord(v)
}

// writeRecord is record with the lock held.
func (p *Printer) writeRecord(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	fmt.Fprintf(p.W, "%s\n", hosttext.Text(string(b)))
}
