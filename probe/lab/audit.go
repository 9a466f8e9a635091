package lab

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// AuditEntry is one line of DIR/audit.jsonl: a command that ran on a host, or a change
// made to a host's files over SFTP. Engine tests read it to prove that no action ran
// twice, across lab restarts too (the log survives them; a reset clears it).
type AuditEntry struct {
	// Time is when the command started or the file operation happened.
	Time time.Time `json:"time"`
	// Host is the inventory name.
	Host string `json:"host"`
	// Kind is "exec", "sftp", or "fault" for a disruption that struck.
	Kind string `json:"kind"`
	// Op is "exec" or "shell" for commands; for SFTP one of "open" (for writing),
	// "remove", "rmdir", "mkdir", "rename", "posix-rename", "setstat", "link", "symlink".
	Op string `json:"op"`
	// Path is the path acted on (absolute); for link and symlink, the new link.
	Path string `json:"path,omitempty"`
	// Target is the new name of a rename, or what a link or symlink points to; for an
	// open or setstat of a symbolic link, the file the link led to (a write through a
	// link shows where it landed); for a planted link (kind "fault", op "link"), the
	// canary it points to.
	Target string `json:"target,omitempty"`
	// Flags says how a file was opened ("write,create,trunc") or which attributes a
	// setstat changed ("size,mode,owner,times").
	Flags string `json:"flags,omitempty"`
	// Command is the command line of an exec.
	Command string `json:"command,omitempty"`
	// Exit is a command's exit code; 128+n when signal n ended it.
	Exit *int `json:"exit,omitempty"`
	// Error is why a file operation failed; failed attempts are recorded too.
	Error string `json:"error,omitempty"`
	// As is the account the lab's simulated sudo ran the command or SFTP server as;
	// empty for the login's own.
	As string `json:"as,omitempty"`
}

// auditLog appends entries to DIR/audit.jsonl, one write per line so that every line is
// on disk as soon as it is logged and lines from concurrent sessions never interleave.
type auditLog struct {
	mu sync.Mutex
	f  *os.File
}

func openAudit(path string) (*auditLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lab: audit log: %w", err)
	}
	return &auditLog{f: f}, nil
}

func (a *auditLog) write(e AuditEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return os.ErrClosed
	}
	_, err = a.f.Write(append(line, '\n'))
	return err
}

func (a *auditLog) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}

// record appends e to the audit log; a failure is logged, since it must not fail the
// operation it describes.
func (l *Lab) record(e AuditEntry) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if err := l.audit.write(e); err != nil {
		l.logf("%s: audit log: %v", e.Host, err)
	}
}

// Audit reads DIR/audit.jsonl back, oldest line first. Commands are written when they
// end, so lines are in order of completion; Time is when each started.
func (l *Lab) Audit() ([]AuditEntry, error) {
	path := filepath.Join(l.dir, auditFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	// Every entry is written with its newline in one write, which a read at the same
	// moment may see in part: a last line without its newline is still being written.
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	var out []AuditEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("lab: %s:%d: %w", path, n, err)
		}
		out = append(out, e)
	}
	return out, nil
}
