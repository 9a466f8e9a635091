package lab

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Disruptions break a host's SSH connections at a chosen moment of a run: when a command
// matching a pattern is about to start, has just started, or has finished, or right
// after a matching file change over SFTP. The lab does not know runbook steps; a test
// (or an operator rehearsing) names the step by what its action runs or writes, e.g.
// "maestroctl start" for a step that starts Maestro, or "accountreg.cutover-incoming/"
// for the middle of a copy of the account registry.
//
// On the command line they are faults of the form KIND:HOST:REGEX, next to the
// scenario's named faults (cutover lab --fault drop-after:spare:maestroctl start).
// Each strikes once, at the first match; the lab records the strike in its audit log
// (kind "fault") so a test can tell it happened.

// Kinds of disruption.
const (
	// DropBefore closes the host's connections as a matching command is about to start:
	// it does not run. After a matching file change the change is made and the
	// connections are closed before the client hears that it was.
	DropBefore = "drop"
	// DropAfter lets a matching command run to its end and closes the host's connections
	// before its exit status is sent: it happened, and the client cannot know. A file
	// change is treated as with DropBefore.
	DropAfter = "drop-after"
	// HangOnStart makes the host stop answering as a matching command starts (the
	// command itself runs on): clients see silence until Unhang, as with Hang.
	HangOnStart = "hang"
	// PlantLink plants a symbolic link at the name a matching SFTP request is about to
	// create (an open that creates, a mkdir, the new name of a rename), just before the
	// lab carries the request out, as someone on the host who guessed the name would.
	// The link points at the lab's canary (Lab.Canary), outside every host: a file, or a
	// folder for a mkdir. A client that writes through it changes the canary.
	PlantLink = "link"
)

// DisruptionKind is a kind of disruption with what it does, in the words `cutover lab
// --faults` lists it with.
type DisruptionKind struct {
	Kind, Description string
}

// DisruptionKinds are every kind of disruption, in the order they are listed. Parsing,
// messages and the fault list all read them from here.
var DisruptionKinds = []DisruptionKind{
	{DropBefore, "cut HOST's connections as a command matching REGEX is about to start (it does not run), or right after a matching file change"},
	{DropAfter, "let a matching command run to its end, then cut HOST's connections before its exit status is sent"},
	{HangOnStart, "HOST stops answering (nothing is closed) as a matching command starts"},
	{PlantLink, "plant a symbolic link to the lab's canary at a name matching REGEX just before HOST creates it over SFTP (open, mkdir, rename)"},
}

// isDisruptionKind reports whether kind names a kind of disruption.
func isDisruptionKind(kind string) bool {
	return slices.ContainsFunc(DisruptionKinds, func(k DisruptionKind) bool { return k.Kind == kind })
}

// disruptionKindList names the kinds for messages: "drop, drop-after, hang or link".
func disruptionKindList() string {
	var names []string
	for _, k := range DisruptionKinds {
		names = append(names, k.Kind)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Disruption is one armed disruption.
type Disruption struct {
	Kind string
	Host string
	// Pattern matches a command line or the path of a file change.
	Pattern *regexp.Regexp
}

// String is the disruption in the form --fault takes: KIND:HOST:REGEX.
func (d *Disruption) String() string { return d.Kind + ":" + d.Host + ":" + d.Pattern.String() }

// IsDisruption reports whether a fault name is a disruption spec rather than the name of
// a scenario fault.
func IsDisruption(fault string) bool {
	kind, _, ok := strings.Cut(fault, ":")
	return ok && isDisruptionKind(kind)
}

// ParseDisruption reads "KIND:HOST:REGEX" (the regular expression may contain colons).
func ParseDisruption(spec string) (*Disruption, error) {
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		return nil, fmt.Errorf("lab: disruption %q: write KIND:HOST:REGEX, KIND one of %s", spec, disruptionKindList())
	}
	if !isDisruptionKind(parts[0]) {
		return nil, fmt.Errorf("lab: disruption %q: unknown kind %q (%s)", spec, parts[0], disruptionKindList())
	}
	re, err := regexp.Compile(parts[2])
	if err != nil {
		return nil, fmt.Errorf("lab: disruption %q: %w", spec, err)
	}
	return &Disruption{Kind: parts[0], Host: parts[1], Pattern: re}, nil
}

// disruptions are the armed disruptions of a lab.
type disruptions struct {
	mu    sync.Mutex
	armed []*Disruption
}

// Disrupt arms d: it strikes once, at the first command or file change on d.Host that
// matches. An unknown host is an error.
func (l *Lab) Disrupt(d *Disruption) error {
	if l.byName[d.Host] == nil {
		return fmt.Errorf("lab: disruption %s: scenario %s has no host %q", d, l.sc.Name, d.Host)
	}
	l.disrupt.mu.Lock()
	defer l.disrupt.mu.Unlock()
	l.disrupt.armed = append(l.disrupt.armed, d)
	return nil
}

// Armed lists the disruptions that have not struck yet.
func (l *Lab) Armed() []string {
	l.disrupt.mu.Lock()
	defer l.disrupt.mu.Unlock()
	out := make([]string, len(l.disrupt.armed))
	for i, d := range l.disrupt.armed {
		out[i] = d.String()
	}
	return out
}

// Moments a disruption is looked for.
const (
	momentBeforeStart  = iota // a command is about to start
	momentStarted             // a command has started
	momentBeforeExit          // a command ended; its status is not sent yet
	momentFileChanged         // a file change over SFTP succeeded; its reply is not sent yet
	momentBeforeCreate        // an SFTP request is about to create a name
)

// take removes and returns the first armed disruption that fits.
func (l *Lab) take(h *host, moment int, subject string) *Disruption {
	l.disrupt.mu.Lock()
	defer l.disrupt.mu.Unlock()
	for i, d := range l.disrupt.armed {
		if d.Host != h.name || !d.Pattern.MatchString(subject) {
			continue
		}
		fits := false
		switch moment {
		case momentBeforeStart:
			fits = d.Kind == DropBefore
		case momentStarted:
			fits = d.Kind == HangOnStart
		case momentBeforeExit:
			fits = d.Kind == DropAfter
		case momentFileChanged:
			fits = d.Kind == DropBefore || d.Kind == DropAfter
		case momentBeforeCreate:
			fits = d.Kind == PlantLink
		}
		if fits {
			l.disrupt.armed = append(l.disrupt.armed[:i:i], l.disrupt.armed[i+1:]...)
			return d
		}
	}
	return nil
}

// strike applies an armed disruption that fits the moment and reports whether one did.
// Dropping closes every connection of the host, the caller's own included.
func (l *Lab) strike(h *host, moment int, subject string) bool {
	d := l.take(h, moment, subject)
	if d == nil {
		return false
	}
	l.logf("%s: disruption %s strikes at %q", h.name, d, subject)
	l.record(AuditEntry{Host: h.name, Kind: "fault", Op: d.Kind, Command: subject})
	if d.Kind == HangOnStart {
		l.Hang(h.name)
		return true
	}
	h.closeConns()
	return true
}
