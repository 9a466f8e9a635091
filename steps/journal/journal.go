// Package journal keeps a run's events in a JSON Lines file: one event per line,
// appended and fsynced before the engine does the next thing, so a run survives a
// dropped console or a power cut and can be resumed, replayed, exported and audited.
//
// Each line carries the SHA-256 of the line before it ("prev"). The chain detects
// accidents: a line edited by hand, lines lost, inserted or reordered, a copy cut
// short in its middle. It is no proof against forgery: whoever can write the file can
// recompute every hash after changing a line. A torn last line (the write a power cut
// interrupted) is tolerated and cut off before appending.
//
// Tamper evidence comes from a signature: with a signing key (Writer.SignWith, the
// command line's --sign), the journal is signed with the operator's SSH key each time
// a run stops (it ends, waits for an operator, is interrupted), in the SSH signature
// format, namespace "cutover-journal", in a file beside it (SigPath). A changed line
// then fails the signature whatever its chain says; VerifySigned and ssh-keygen -Y
// verify check it against an allowed_signers file. A run killed before it could sign
// leaves its last lines outside the signature, and the checks say which.
package journal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
)

// MaxSize is the largest journal read (256 MiB; a night's run writes well under one).
const MaxSize = 256 << 20

// Writer appends events to a journal file. It implements steps.Recorder.
type Writer struct {
	mu     sync.Mutex
	f      *os.File
	path   string
	prev   string
	signer ssh.Signer
}

// SignWith makes Close sign the journal with s (see Sign).
func (w *Writer) SignWith(s ssh.Signer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.signer = s
}

// Create starts a new journal at path; it refuses to overwrite one.
func Create(path string) (*Writer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("journal folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	// The new name must survive a crash too.
	syncDir(filepath.Dir(path))
	return &Writer{f: f, path: path}, nil
}

// Append opens an existing journal to continue it, returning the events so far. A torn
// last line is removed first so the file stays valid JSON Lines.
//
// A journal that someone else could have written (Exposure), or that no longer matches
// its signature, is refused: what it records is what a resume acts on.
func Append(path string) (*Writer, *Journal, error) {
	if problems := Exposure(path); len(problems) > 0 {
		return nil, nil, fmt.Errorf("refusing to continue this journal: %s; make it yours and writable only by you (chown, chmod go-w) if you trust its content", strings.Join(problems, "; "))
	}
	j, err := Read(path)
	if err != nil {
		return nil, nil, err
	}
	if j.CheckSignature(); j.SignatureErr != nil {
		return nil, nil, fmt.Errorf("refusing to continue this journal: %w", j.SignatureErr)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("journal: %w", err)
	}
	if j.Torn {
		if err := f.Truncate(j.validBytes); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("journal: cutting the torn last line: %w", err)
		}
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, nil, err
	}
	if j.noNewline {
		// The last event is whole but its newline was lost: end its line, or the next
		// event would be glued to it.
		if _, err := f.Write([]byte("\n")); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("journal: ending the last line: %w", err)
		}
	}
	return &Writer{f: f, path: path, prev: j.lastHash}, j, nil
}

// Path is the journal's file name.
func (w *Writer) Path() string { return w.path }

// Record appends ev as one line and syncs it to disk before returning.
func (w *Writer) Record(ev *steps.Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return errors.New("journal is closed")
	}
	ev.Prev = w.prev
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if _, err := w.f.Write(append(line, '\n')); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	w.prev = hashLine(line)
	return nil
}

// Close closes the file and, with a signing key, signs the journal as it is now: a
// run closes its journal whenever it stops (done, aborted, waiting for an operator,
// interrupted), so the signature covers everything the run wrote.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err == nil && w.signer != nil {
		err = Sign(w.path, w.signer)
	}
	return err
}

func hashLine(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Journal is a journal file read back.
type Journal struct {
	Path   string
	Events []*steps.Event
	// Torn is set when the last line was incomplete and was ignored.
	Torn bool
	// Broken describes the first place the hash chain does not hold, if any.
	Broken *ChainError
	// Signature is what the journal's signature covers, and SignatureErr why it does
	// not match the journal, once CheckSignature (or Append) looked.
	Signature    *Signature
	SignatureErr error

	validBytes int64
	lastHash   string
	noNewline  bool // the last event's line lacks its "\n"
	lines      int  // whole lines read
}

// CheckSignature reads the journal's signature, if it has one, into Signature, or why
// it does not match into SignatureErr (see ReadSignature).
func (j *Journal) CheckSignature() {
	sig, err := ReadSignature(j.Path)
	if errors.Is(err, ErrNoSignature) {
		err = nil
	}
	j.Signature, j.SignatureErr = sig, err
}

// ChainError says where a journal's hash chain breaks: a line was changed, removed or
// inserted after it was written.
type ChainError struct {
	Line int
	Msg  string
}

// Error names the first line that no longer follows the chain.
func (e *ChainError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Read loads a journal. A damaged line other than the last is an error naming it; a
// broken hash chain is reported in Broken, not as an error, so a tampered journal can
// still be exported (with the warning) and examined.
func Read(path string) (*Journal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: larger than %d MiB, more than any run writes: not a journal cutover reads", path, MaxSize>>20)
	}
	return Parse(path, data)
}

// Parse reads journal content; path is used in messages.
func Parse(path string, data []byte) (*Journal, error) {
	j := &Journal{Path: path}
	r := bufio.NewReader(bytes.NewReader(data))
	var offset int64
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		complete := bytes.HasSuffix(line, []byte("\n"))
		body := bytes.TrimRight(line, "\r\n")
		ev := &steps.Event{}
		if perr := json.Unmarshal(body, ev); perr != nil || ev.Type == "" {
			if !complete {
				j.Torn = true
				break
			}
			if len(bytes.TrimSpace(body)) == 0 {
				return nil, fmt.Errorf("%s:%d: empty line in journal", path, n)
			}
			return nil, fmt.Errorf("%s:%d: damaged journal line (not a cutover event): %.60q", path, n, body)
		}
		if j.Broken == nil {
			switch {
			case ev.Prev != j.lastHash:
				j.Broken = &ChainError{Line: n, Msg: fmt.Sprintf("does not follow line %d: one of the two was changed, or lines were removed or inserted between them (hash chain broken)", n-1)}
			case ev.Seq != len(j.Events)+1:
				j.Broken = &ChainError{Line: n, Msg: fmt.Sprintf("sequence number %d, expected %d", ev.Seq, len(j.Events)+1)}
			}
		}
		j.Events = append(j.Events, ev)
		j.lines++
		j.lastHash = hashLine(body)
		offset += int64(len(line))
		j.validBytes = offset
		if !complete {
			// The last write lost only its newline; the event itself is whole.
			j.noNewline = true
			break
		}
	}
	if len(j.Events) == 0 {
		return nil, fmt.Errorf("%s: the journal has no events", path)
	}
	return j, nil
}

// Verify checks a journal's hash chain and reports the first bad line.
func Verify(path string) error {
	j, err := Read(path)
	if err != nil {
		return err
	}
	if j.Broken != nil {
		return fmt.Errorf("%s:%w", path, j.Broken)
	}
	return nil
}

// DefaultDir is where journals go unless told otherwise: $CUTOVER_JOURNALS, else the
// user's state folder (XDG_STATE_HOME, or ~/.local/state)/cutover/journals.
func DefaultDir() string {
	if d := os.Getenv("CUTOVER_JOURNALS"); d != "" {
		return d
	}
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(os.TempDir(), "cutover-journals")
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "cutover", "journals")
}

// Folders are where a run's files go: its journals and, beside them, the practice lab
// the wizard starts and the run files the wizard saves.
type Folders struct {
	Journals, Lab, Runs string
}

// FoldersFor fills in the folders the operator did not name: journals in DefaultDir,
// the lab and run files beside the journals folder. The command line calls it once and
// hands the result down, so the wizard and the runner never pick a folder themselves.
func FoldersFor(journals, lab string) Folders {
	if journals == "" {
		journals = DefaultDir()
	}
	if lab == "" {
		lab = filepath.Join(filepath.Dir(journals), "lab")
	}
	return Folders{Journals: journals, Lab: lab, Runs: filepath.Join(filepath.Dir(journals), "runs")}
}

// NewPath names a new journal in dir (DefaultDir when empty) for a run of runbook id
// starting at t, adding a counter when a journal of the same second exists already.
func NewPath(dir, runbookID string, t time.Time) string {
	if dir == "" {
		dir = DefaultDir()
	}
	base := filepath.Join(dir, probe.Slug(runbookID)+"-"+t.UTC().Format("20060102T150405Z"))
	p := base + ".jsonl"
	for n := 2; ; n++ {
		// Any error but "exists" ends the search: a folder that cannot be read (or is a
		// file) would give the same error for every counter, and Create reports it.
		if _, err := os.Lstat(p); err != nil {
			return p
		}
		p = fmt.Sprintf("%s-%d.jsonl", base, n)
	}
}
