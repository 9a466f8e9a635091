package steps

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// WriteAction writes a text file on a role's host over SFTP: its content is a template
// rendered as plain data (values are not quoted for a shell: no shell ever sees them),
// so configuration files never pass through a heredoc. The file is replaced as a whole
// through a temporary name, its first original of the run is kept beside it as the ini
// action keeps its own (both through putFile: random temporary names created
// exclusively, never through a link), and the record shows the difference line by line.
//
// For example, a step of a runbook:
//
//	action:
//	  write:
//	    role: proxy
//	    file: "{{ params.proxy_conf }}"
//	    content: |
//	      server {
//	          listen {{ params.port }};
//	      }
type WriteAction struct {
	Role Ref `yaml:"role"`
	// File is the path on the host; relative paths are taken from its install folder.
	File *Template `yaml:"file"`
	// Content is the text to write.
	Content *Template `yaml:"content"`
	// Mode is the octal mode of a file that does not exist yet (default 0644); an existing
	// file keeps its own.
	Mode string `yaml:"mode"`
	// Test, when given, is a command that must accept the file once it is in place (such
	// as nginx -t): when it fails, the previous file is put back (a new one is removed)
	// and the action fails with the command's output.
	Test *WriteTest `yaml:"test"`
}

// WriteTest is the command that tests a written file, in the form for each shell.
type WriteTest struct {
	Run        *Template `yaml:"command"`
	PowerShell *Template `yaml:"powershell"`
	Timeout    Duration  `yaml:"timeout"`
}

// maxPlanLines bounds the lines of content a plan shows before the action runs.
const maxPlanLines = 200

func (a *WriteAction) compile(c *compiler, act *Action) {
	c.role(a.Role, "role", act.Pos)
	c.tmpl(a.File, "file", act.Pos, true)
	c.tmpl(a.Content, "content", act.Pos, true)
	if _, err := a.perm(); err != nil {
		c.errorf(act.Pos, "%v", err)
	}
	if a.Test != nil {
		c.commands(a.Test.Run, a.Test.PowerShell, "test.command", "test.powershell", act.Pos, false)
	}
}

// perm is the mode of a new file.
func (a *WriteAction) perm() (fs.FileMode, error) {
	if a.Mode == "" {
		return 0o644, nil
	}
	n, err := strconv.ParseUint(a.Mode, 8, 32)
	if err != nil || n > 0o777 {
		return 0, fmt.Errorf("mode %q: give permissions in octal, such as 0644", a.Mode)
	}
	return fs.FileMode(n), nil
}

func (a *WriteAction) plan(x *stepExec) (ActionRecord, error) {
	h := x.host(a.Role.Name)
	file := x.mustRender(a.File)
	rec := ActionRecord{Kind: "write", Hosts: []string{h.Name}, Summary: fmt.Sprintf("write %s on %s", file, h.Name)}
	content, err := x.render(a.Content)
	if err != nil {
		return rec, err
	}
	lines := splitLogLines([]byte(content))
	rec.Summary = fmt.Sprintf("write %s on %s (%s; an existing file is kept beside it)", file, h.Name, Plural(len(lines), "line", "lines"))
	for i, l := range lines {
		if i == maxPlanLines {
			rec.Changes = append(rec.Changes, fmt.Sprintf("... %d more lines", len(lines)-i))
			break
		}
		rec.Changes = append(rec.Changes, "+ "+x.redact(l))
	}
	if a.Test != nil {
		cmd, err := commandFor(x, a.Role.Name, a.Test.Run, a.Test.PowerShell)
		if err != nil {
			return rec, err
		}
		rec.Summary += ", then tested with the command below (a refusal puts the previous file back)"
		rec.Commands = []string{x.redact(cmd)}
	}
	return rec, checkPlanned(h, h.Resolve(file), "the file to write")
}

func (a *WriteAction) run(ctx context.Context, x *stepExec, rec *ActionRecord) {
	content, err := x.render(a.Content)
	if err != nil {
		rec.Error = err.Error()
		return
	}
	t, h, p, fail, ok := x.fileTarget(ctx, a.Role.Name, a.File, "the file to write", rec)
	if !ok {
		return
	}
	data := []byte(content)
	if len(data) > maxSmallFile {
		fail(fmt.Errorf("the content is %d bytes, more than the %d a write action writes", len(data), maxSmallFile))
		return
	}
	perm, _ := a.perm()
	var old []byte
	fi, err := t.Lstat(ctx, p)
	switch {
	case isNotExist(err):
		fi = nil
		if _, err := t.Stat(ctx, parentDir(p)); err != nil {
			// A missing folder is more likely a mistyped path than one to create.
			fail(fmt.Errorf("its folder %s: %w", parentDir(p), err))
			return
		}
	case err != nil:
		fail(err)
		return
	case !fi.Mode().IsRegular():
		fail(fmt.Errorf("is not a regular file (%s): nothing written", fi.Mode().Type()))
		return
	default:
		if old, err = readSmallFile(ctx, t, p); err != nil {
			fail(err)
			return
		}
	}
	if fi != nil && bytes.Equal(old, data) {
		rec.Changes = []string{"already as wanted: nothing written"}
		rec.OK = a.test(ctx, x, rec)
		return
	}
	rec.Changes = diffChanges(x, old, data)
	if fi != nil {
		perm = fi.Mode().Perm()
	}
	backup, err := putFile(ctx, t, fileWrite{Host: h.Name, Path: p, Data: data, Perm: perm, Create: fi == nil, KeepRun: x.runID, Orig: old})
	if err != nil {
		fail(err)
		return
	}
	// How to undo the write, for rollback: the kept original goes back, or a file that
	// did not exist is kept aside (nothing is deleted).
	if backup != "" {
		rec.Changes = append(rec.Changes, "original kept as "+backup)
		rec.Undo = append(rec.Undo, Undo{Kind: UndoFile, Role: a.Role.Name, Host: h.Name, Path: p, Kept: backup})
	} else {
		rec.Changes = append(rec.Changes, fmt.Sprintf("new file, mode %04o", perm))
		rec.Undo = append(rec.Undo, Undo{Kind: UndoAbsent, Role: a.Role.Name, Host: h.Name, Path: p})
	}
	if a.test(ctx, x, rec) {
		rec.OK = true
		return
	}
	if rec.Unknown {
		return // the connection dropped while the test ran: nothing can be put back
	}
	// Refused: the previous content goes back the way the new one came. Once it is back
	// there is nothing left to undo; if it cannot be put back, the undo stays recorded.
	if fi != nil {
		_, err = putFile(ctx, t, fileWrite{Host: h.Name, Path: p, Data: old, Perm: perm, KeepRun: x.runID, Orig: data})
	} else {
		err = t.Remove(ctx, p)
	}
	if err != nil {
		rec.Error += fmt.Sprintf("; putting the previous file back failed: %v", err)
		return
	}
	rec.Undo = nil
	if fi != nil {
		rec.Error += "; the previous file is back in place"
		rec.Changes = append(rec.Changes, "refused: the previous file is back in place")
	} else {
		rec.Error += "; the new file is removed"
		rec.Changes = append(rec.Changes, "refused: the new file is removed")
	}
}

// test runs the test command, if any, with its output in the record; false means it
// failed (rec.Error says how).
func (a *WriteAction) test(ctx context.Context, x *stepExec, rec *ActionRecord) bool {
	if a.Test == nil {
		return true
	}
	cmd, err := commandFor(x, a.Role.Name, a.Test.Run, a.Test.PowerShell)
	if err != nil {
		rec.Error = err.Error()
		return false
	}
	if a.Test.Timeout.D > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.Test.Timeout.D)
		defer cancel()
	}
	var one ActionRecord
	runCommand(ctx, x, a.Role.Name, cmd, []int{0}, &one)
	rec.Output, rec.ExitCode = one.Output, one.ExitCode
	if one.OK {
		return true
	}
	rec.Error, rec.Unreachable, rec.Unknown = "the test refused the file: "+one.Error, one.Unreachable, one.Unknown
	return false
}

// parentDir is the folder of a host path, slash or backslash separated.
func parentDir(p string) string {
	i := strings.LastIndexAny(p, `/\`)
	switch {
	case i < 0:
		return "."
	case i == 0:
		return p[:1]
	case i == 2 && p[1] == ':':
		return p[:3] // C:\
	}
	return p[:i]
}
