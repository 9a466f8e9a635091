package steps

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
)

// runAction plans and runs the action of step id, as the engine does.
func runAction(t *testing.T, x *stepExec) ActionRecord {
	t.Helper()
	if x.step.Action == nil {
		t.Fatalf("step %s has no action", x.step.ID)
	}
	rec, err := x.step.Action.Spec.plan(x)
	if err != nil {
		rec.Error = err.Error()
		return rec
	}
	x.step.Action.Spec.run(context.Background(), x, &rec)
	return rec
}

func TestRunAction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rb := testRunbook(t, `  - id: ok
    title: ok
    action:
      run: {role: a, command: "echo hello from $(basename $(pwd)); echo to stderr >&2"}
  - id: exit3
    title: exit 3 is fine here
    action:
      run: {role: b, command: "exit 3", exit: [0, 3]}
  - id: exit2
    title: exit 2 is not
    action:
      run: {role: b, command: "echo failing; exit 2", exit: [0, 3]}
  - id: chatty
    title: many lines
    action:
      run: {role: a, command: "i=1; while [ $i -le 100 ]; do echo line $i; i=$((i+1)); done; printf 'no newline'"}
  - id: slow
    title: too slow
    action:
      run: {role: a, command: "sleep 5", timeout: 100ms}
`)
	tests := []struct {
		step     string
		ok       bool
		exit     int
		errHas   string
		output   []string // lines the output must contain
		lastLine string
	}{
		{step: "ok", ok: true, exit: 0, output: []string{"h1: hello from h1", "h1: to stderr"}},
		{step: "exit3", ok: true, exit: 3},
		{step: "exit2", ok: false, exit: 2, errHas: "h2: exit code 2 (expected 0 or 3)", output: []string{"h2: failing"}},
		{step: "chatty", ok: true, exit: 0, output: []string{"h1: line 100"}, lastLine: "h1: no newline"},
	}
	for _, tc := range tests {
		t.Run(tc.step, func(t *testing.T) {
			x := f.exec(rb, tc.step, nil, nil)
			rec := runAction(t, x)
			if rec.OK != tc.ok {
				t.Errorf("OK = %v, want %v (error %q)", rec.OK, tc.ok, rec.Error)
			}
			if rec.ExitCode == nil || *rec.ExitCode != tc.exit {
				t.Errorf("exit code %v, want %d", rec.ExitCode, tc.exit)
			}
			if tc.errHas != "" && !strings.Contains(rec.Error, tc.errHas) {
				t.Errorf("error %q lacks %q", rec.Error, tc.errHas)
			}
			for _, want := range tc.output {
				if !slices.Contains(rec.Output, want) {
					t.Errorf("output %q lacks line %q", rec.Output, want)
				}
			}
			if tc.lastLine != "" {
				if got := rec.Output[len(rec.Output)-1]; got != tc.lastLine {
					t.Errorf("last output line %q, want %q", got, tc.lastLine)
				}
				if len(rec.Output) != 40 {
					t.Errorf("kept %d output lines, want the last 40", len(rec.Output))
				}
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		t0 := time.Now()
		rec := runAction(t, f.exec(rb, "slow", nil, nil))
		if rec.OK || rec.Error == "" {
			t.Errorf("a command that outlives its timeout succeeded: %+v", rec)
		}
		if d := time.Since(t0); d > 3*time.Second {
			t.Errorf("took %s", d)
		}
	})
}

func orderLines(t *testing.T, f *fixture) []string {
	t.Helper()
	b, err := os.ReadFile(f.order)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "_"))
}

func TestServiceAction(t *testing.T) {
	t.Parallel()
	rb := testRunbook(t, `  - id: stop
    title: stop everywhere
    action:
      service: {roles: [c, a, b], name: svc, do: stop}
  - id: start
    title: start everywhere
    action:
      service: {roles: [b, a, c], name: svc, do: start}
`)
	t.Run("order and dedupe", func(t *testing.T) {
		f := newFixture(t)
		for _, h := range []string{"h1", "h2", "h3"} {
			f.setRunning(h, true)
		}
		// a and b share h1: it is stopped once, in the place of the first role.
		roles := map[string]string{"a": "h1", "b": "h1", "c": "h3"}
		x := f.exec(rb, "stop", roles, nil)
		rec := runAction(t, x)
		if !rec.OK {
			t.Fatalf("stop failed: %+v", rec)
		}
		if got, want := orderLines(t, f), []string{"h3_stop", "h1_stop"}; !slices.Equal(got, want) {
			t.Errorf("service commands ran as %v, want %v", got, want)
		}
		if !slices.Equal(rec.Hosts, []string{"h3", "h1"}) || len(rec.Commands) != 2 {
			t.Errorf("record hosts %v commands %q, want h3 then h1, once each", rec.Hosts, rec.Commands)
		}
		if !strings.HasPrefix(rec.Commands[0], "h3: sh ") {
			t.Errorf("commands are not labelled with their host: %q", rec.Commands)
		}
		if !slices.Contains(rec.Output, "h1: stop ok on h1") {
			t.Errorf("output %q lacks h1's line", rec.Output)
		}
		if _, err := os.Stat(f.path("h2", "running")); err != nil {
			t.Errorf("h2 is not bound to a role and must not be touched: %v", err)
		}
	})
	t.Run("stops at the first failure", func(t *testing.T) {
		f := newFixture(t)
		f.write("h1", "fail-start", "")
		rec := runAction(t, f.exec(rb, "start", nil, nil))
		if rec.OK {
			t.Fatal("start succeeded although h1 failed")
		}
		if !strings.Contains(rec.Error, "h1: exit code 1") {
			t.Errorf("error %q does not name h1's exit code", rec.Error)
		}
		if rec.ExitCode == nil || *rec.ExitCode != 1 {
			t.Errorf("exit code %v, want 1", rec.ExitCode)
		}
		// b (h2) first, then a (h1) fails, and c (h3) is never started.
		if got, want := orderLines(t, f), []string{"h2_start", "h1_start"}; !slices.Equal(got, want) {
			t.Errorf("service commands ran as %v, want %v", got, want)
		}
		if !slices.Contains(rec.Output, "h1: cannot start on h1") {
			t.Errorf("output %q lacks the failure message", rec.Output)
		}
	})
	t.Run("no service commands", func(t *testing.T) {
		f := newFixture(t)
		delete(f.hosts["h3"].Services, "svc")
		x := f.exec(rb, "start", nil, nil)
		_, err := x.step.Action.Spec.plan(x)
		if err == nil || !strings.Contains(err.Error(), "no svc service commands for h3") {
			t.Errorf("plan error %v, want one naming h3", err)
		}
	})
}

// writer is a transport that creates files exclusively, as every transport that
// writes must; the fixture's local transports are, and wrappers keep that.
type writer interface {
	probe.Transport
	probe.ExclusiveCreator
}

// randomPart is the random part of cutover's temporary names, left out where tests
// compare names.
var randomPart = regexp.MustCompile(`-[0-9a-f]{16}$`)

// opTransport records the file operations made through it.
type opTransport struct {
	writer
	mu  *sync.Mutex
	ops *[]string
}

func newOpTransport(tr probe.Transport, mu *sync.Mutex, ops *[]string) opTransport {
	return opTransport{tr.(writer), mu, ops}
}

func (o opTransport) log(s string) {
	o.mu.Lock()
	*o.ops = append(*o.ops, randomPart.ReplaceAllString(s, "-R"))
	o.mu.Unlock()
}

func (o opTransport) Create(ctx context.Context, p string, perm fs.FileMode) (io.WriteCloser, error) {
	o.log("create " + filepath.Base(p))
	return o.writer.Create(ctx, p, perm)
}

func (o opTransport) CreateExclusive(ctx context.Context, p string, perm fs.FileMode) (io.WriteCloser, error) {
	o.log("create " + filepath.Base(p))
	return o.writer.CreateExclusive(ctx, p, perm)
}

func (o opTransport) Mkdir(ctx context.Context, p string, perm fs.FileMode) error {
	o.log("mkdir " + filepath.Base(p))
	return o.writer.Mkdir(ctx, p, perm)
}

func (o opTransport) Rename(ctx context.Context, a, b string) error {
	o.log("rename " + randomPart.ReplaceAllString(filepath.Base(a), "-R") + " " + filepath.Base(b))
	return o.writer.Rename(ctx, a, b)
}

func (o opTransport) RemoveAll(ctx context.Context, p string) error {
	o.log("removeall " + filepath.Base(p))
	return o.writer.RemoveAll(ctx, p)
}

func TestINIAction(t *testing.T) {
	const orig = "# LUI settings\r\nRegistryHubHost=hub.maestro.lab\r\nTrackerHost = trk.maestro.lab\r\nOldKey=1\r\nHTTPPort=80\r\n"
	rb := testRunbook(t, `  - id: edit
    title: edit lui.ini
    action:
      ini:
        role: a
        file: lui/lui.ini
        set:
          RegistryHubHost: spare.maestro.lab
          TrackerHost: "{{ params.word }}.maestro.lab"
          NewKey: added
        unset: [OldKey]
  - id: same
    title: nothing to change
    action:
      ini:
        role: a
        file: lui/lui.ini
        set: {HTTPPort: "80"}
`)
	f := newFixture(t)
	var mu sync.Mutex
	var ops []string
	f.wrap = func(_ string, tr probe.Transport) probe.Transport { return newOpTransport(tr, &mu, &ops) }
	p := f.write("h1", "lui/lui.ini", orig)
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	f.chtime("h1", "lui/lui.ini", old)

	x := f.exec(rb, "edit", nil, nil)
	planned, err := x.step.Action.Spec.plan(x)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"RegistryHubHost=spare.maestro.lab", "TrackerHost=hello.maestro.lab", "NewKey=added", "; remove OldKey"}; !slices.Equal(planned.Changes, want) {
		t.Errorf("planned changes %q, want %q", planned.Changes, want)
	}
	rec := runAction(t, x)
	if !rec.OK {
		t.Fatalf("ini action failed: %+v", rec)
	}
	want := "# LUI settings\r\nRegistryHubHost=spare.maestro.lab\r\nTrackerHost = hello.maestro.lab\r\nHTTPPort=80\r\nNewKey=added\r\n"
	if got := f.read("h1", "lui/lui.ini"); got != want {
		t.Errorf("lui.ini is now\n%q\nwant\n%q", got, want)
	}
	backup := "lui/lui.ini.cutover-RUNID"
	if got := f.read("h1", backup); got != orig {
		t.Errorf("the original kept beside the file differs from it:\n%q", got)
	}
	if fi, err := os.Stat(f.path("h1", backup)); err != nil || !fi.ModTime().Equal(old) || fi.Mode().Perm() != 0o640 {
		t.Errorf("backup %v: want the original's time %s and mode 0640", fi, old)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("the edited file lost its mode: %v", fi.Mode())
	}
	if m, _ := filepath.Glob(p + ".cutover-tmp*"); len(m) > 0 {
		t.Errorf("the temporary file is left behind: %v", m)
	}
	// Atomic: the new content goes to a temporary name that is renamed over the file;
	// the file itself is never opened for writing.
	mu.Lock()
	gotOps := slices.Clone(ops)
	mu.Unlock()
	if slices.Contains(gotOps, "create lui.ini") || !slices.Contains(gotOps, "create lui.ini.cutover-tmp-R") ||
		!slices.Contains(gotOps, "rename lui.ini.cutover-tmp-R lui.ini") {
		t.Errorf("file operations %q: want a write to lui.ini.cutover-tmp-RANDOM renamed over lui.ini", gotOps)
	}
	for _, c := range []string{"line 2: RegistryHubHost=hub.maestro.lab -> RegistryHubHost=spare.maestro.lab", "- OldKey=1", "+ NewKey=added", "original kept as " + f.path("h1", backup)} {
		if !slices.Contains(rec.Changes, c) {
			t.Errorf("changes %q lack %q", rec.Changes, c)
		}
	}

	// Running it again (a retry) changes nothing and keeps the first original.
	rec = runAction(t, f.exec(rb, "edit", nil, nil))
	if !rec.OK || !slices.Equal(rec.Changes, []string{"already as wanted: nothing written"}) {
		t.Errorf("second run: %+v", rec)
	}
	if got := f.read("h1", backup); got != orig {
		t.Error("a second run replaced the kept original")
	}
	rec = runAction(t, f.exec(rb, "same", nil, nil))
	if !rec.OK || rec.Changes[0] != "already as wanted: nothing written" {
		t.Errorf("unchanged file: %+v", rec)
	}

	t.Run("missing file", func(t *testing.T) {
		f := newFixture(t)
		rec := runAction(t, f.exec(rb, "edit", nil, nil))
		if rec.OK || !strings.Contains(rec.Error, "h1:"+f.path("h1", "lui/lui.ini")) {
			t.Errorf("editing a missing file: %+v", rec)
		}
		if _, err := os.Stat(f.path("h1", "lui/lui.ini")); !os.IsNotExist(err) {
			t.Error("editing a missing file created it")
		}
	})
}

// treeHashes maps every file and folder under root to its content hash ("dir" for
// folders, "link to X" for symbolic links).
func treeHashes(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			to, err := os.Readlink(p)
			out[rel] = "link to " + to
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = fmt.Sprintf("%x", sha256.Sum256(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedTree(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := m[k]
		if !strings.HasPrefix(v, "link to ") {
			v = v[:min(12, len(v))]
		}
		fmt.Fprintf(&b, "%s %s\n", k, v)
	}
	return b.String()
}

// flipTransport corrupts files written through it whose names contain match: the first
// byte written is flipped, as a bad disk or a broken proxy would.
type flipTransport struct {
	writer
	match string
}

func (ft flipTransport) CreateExclusive(ctx context.Context, p string, perm fs.FileMode) (io.WriteCloser, error) {
	w, err := ft.writer.CreateExclusive(ctx, p, perm)
	if err != nil || !strings.Contains(p, ft.match) {
		return w, err
	}
	return &flipWriter{WriteCloser: w}, nil
}

type flipWriter struct {
	io.WriteCloser
	done bool
}

func (w *flipWriter) Write(b []byte) (int, error) {
	if !w.done && len(b) > 0 {
		c := slices.Clone(b)
		c[0] ^= 0x20
		w.done = true
		return w.WriteCloser.Write(c)
	}
	return w.WriteCloser.Write(b)
}

// ReadFrom hides the writer's own ReadFrom so every byte passes through Write.
func (w *flipWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{w}, r)
}

func copyFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.write("h1", "hub/hub.ini", "HTTPPort=8080\nHubInstanceID=prod\n")
	f.write("h1", "hub/reg/a.properties", "a=1\n")
	f.write("h1", "hub/reg/sub/b.properties", strings.Repeat("b=2\n", 5000))
	f.write("h1", "hub/reg/empty/.keep", "")
	f.chtime("h1", "hub/reg/a.properties", time.Now().Add(-72*time.Hour).Truncate(time.Second))
	// The target has a fresh installation's files, one of which the source lacks.
	f.write("h2", "hub/hub.ini", "HTTPPort=8080\nHubInstanceID=fresh\n")
	f.write("h2", "hub/reg/a.properties", "a=0\n")
	f.write("h2", "hub/reg/stale.properties", "left over from the fresh install\n")
	return f
}

const copyRunbook = `  - id: replace
    title: replace
    action:
      copy: {from: a, to: b, paths: [hub/hub.ini, hub/reg]}
  - id: into
    title: into
    action:
      copy: {from: a, to: b, mode: into, paths: [hub/reg]}
  - id: rename
    title: to another name
    action:
      copy: {from: a, to: b, paths: [{src: hub/reg, dst: "/ABS/elsewhere/reg"}]}
`

func TestCopyReplace(t *testing.T) {
	f := copyFixture(t)
	rb := testRunbook(t, copyRunbook)
	rec := runAction(t, f.exec(rb, "replace", nil, nil))
	if !rec.OK {
		t.Fatalf("copy failed: %+v", rec)
	}
	src, dst := treeHashes(t, f.path("h1", "hub")), treeHashes(t, f.path("h2", "hub"))
	// What the copy replaced is kept aside beside it, for the back-out, not merged.
	aside := map[string]string{}
	for p, h := range dst {
		if before, after, ok := strings.Cut(p, ".cutover-RUNID-replaced"); ok {
			aside[before+after] = h
			delete(dst, p)
		}
	}
	if _, ok := aside["reg/stale.properties"]; !ok || len(rec.Undo) != 2 || rec.Undo[0].Kind != UndoAside || rec.Undo[1].Kind != UndoAside {
		t.Errorf("what the copy replaced is not kept aside with its undo: aside %v, undo %+v", aside, rec.Undo)
	}
	if sortedTree(src) != sortedTree(dst) {
		t.Errorf("after replace the target differs from the source (a copy must never merge):\nsource:\n%s\ntarget:\n%s", sortedTree(src), sortedTree(dst))
	}
	if _, ok := dst["reg/stale.properties"]; ok {
		t.Error("a file only the target had survived a replace: the copy merged")
	}
	if rec.Files != 4 || rec.Bytes != int64(len("HTTPPort=8080\nHubInstanceID=prod\n")+4+5000*4) {
		t.Errorf("record: %d files, %d bytes", rec.Files, rec.Bytes)
	}
	for _, c := range rec.Changes {
		if !strings.Contains(c, "verified") {
			t.Errorf("change %q does not say it was verified", c)
		}
	}
	fi, err := os.Stat(f.path("h2", "hub/reg/a.properties"))
	si, _ := os.Stat(f.path("h1", "hub/reg/a.properties"))
	if err != nil || !fi.ModTime().Equal(si.ModTime()) {
		t.Errorf("copy does not keep the source's modification time: %v vs %v", fi.ModTime(), si.ModTime())
	}
	entries, _ := os.ReadDir(f.path("h2", "hub"))
	for _, e := range entries {
		if strings.Contains(e.Name(), "cutover") && !strings.HasSuffix(e.Name(), ".cutover-RUNID-replaced") {
			t.Errorf("staging copy %s left behind", e.Name())
		}
	}
	// The source is untouched.
	if got := f.read("h1", "hub/hub.ini"); got != "HTTPPort=8080\nHubInstanceID=prod\n" {
		t.Errorf("the source changed: %q", got)
	}
}

func TestCopyInto(t *testing.T) {
	f := copyFixture(t)
	rb := testRunbook(t, copyRunbook)
	rec := runAction(t, f.exec(rb, "into", nil, nil))
	if !rec.OK {
		t.Fatalf("copy failed: %+v", rec)
	}
	if got := f.read("h2", "hub/reg/stale.properties"); got == "" {
		t.Error("into must keep the target's other files")
	}
	if got := f.read("h2", "hub/reg/a.properties"); got != "a=1\n" {
		t.Errorf("a.properties = %q, want the source's", got)
	}
	if got := f.read("h2", "hub/reg/sub/b.properties"); len(got) != 5000*4 {
		t.Errorf("b.properties has %d bytes", len(got))
	}
	filepath.WalkDir(f.path("h2", "hub"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), "cutover") {
			t.Errorf("temporary file %s left behind", p)
		}
		return nil
	})
}

func TestCopyToAbsolutePath(t *testing.T) {
	f := copyFixture(t)
	abs := filepath.ToSlash(filepath.Join(f.root, "elsewhere", "reg"))
	rb := testRunbook(t, strings.ReplaceAll(copyRunbook, "/ABS/elsewhere/reg", abs))
	rec := runAction(t, f.exec(rb, "rename", nil, nil))
	if !rec.OK {
		t.Fatalf("copy failed: %+v", rec)
	}
	if sortedTree(treeHashes(t, f.path("h1", "hub/reg"))) != sortedTree(treeHashes(t, abs)) {
		t.Error("the copy at the absolute destination differs from the source")
	}
}

func TestCopyVerificationFails(t *testing.T) {
	f := copyFixture(t)
	f.wrap = func(host string, tr probe.Transport) probe.Transport {
		if host == "h2" {
			return flipTransport{writer: tr.(writer), match: "b.properties"}
		}
		return tr
	}
	before := sortedTree(treeHashes(t, f.path("h2", "hub")))
	rb := testRunbook(t, copyRunbook)
	rec := runAction(t, f.exec(rb, "replace", nil, nil))
	if rec.OK {
		t.Fatal("a corrupted copy was accepted")
	}
	if !strings.Contains(rec.Error, "verification failed") || !strings.Contains(rec.Error, "b.properties") {
		t.Errorf("error %q does not say which file failed verification", rec.Error)
	}
	// hub.ini was replaced before reg failed; reg itself must be the target's old one,
	// whole: a failed copy never leaves a mix behind.
	after := treeHashes(t, f.path("h2", "hub"))
	if _, ok := after["reg/stale.properties"]; !ok || f.read("h2", "hub/reg/a.properties") != "a=0\n" {
		t.Errorf("the target's reg was changed by a copy that failed:\nbefore:\n%s\nafter:\n%s", before, sortedTree(after))
	}
	for p := range after {
		if strings.Contains(p, "cutover") && p != "hub.ini.cutover-RUNID-replaced" {
			t.Errorf("a failed copy left %s on the target", p)
		}
	}
	// The hub.ini it did replace is kept aside, and the record says how to put it back.
	if len(rec.Undo) != 1 || rec.Undo[0].Kind != UndoAside || !strings.HasSuffix(rec.Undo[0].Kept, "hub.ini.cutover-RUNID-replaced") {
		t.Errorf("undo of the replaced hub.ini: %+v", rec.Undo)
	}
}

func TestCopyRefusesSymlinks(t *testing.T) {
	f := copyFixture(t)
	if err := os.Symlink("/etc/passwd", f.path("h1", "hub/reg/sub/link")); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ops []string
	f.wrap = func(host string, tr probe.Transport) probe.Transport {
		if host == "h2" {
			return newOpTransport(tr, &mu, &ops)
		}
		return tr
	}
	before := sortedTree(treeHashes(t, f.path("h2", "hub")))
	rb := testRunbook(t, copyRunbook)
	rec := runAction(t, f.exec(rb, "replace", nil, nil))
	if rec.OK || !strings.Contains(rec.Error, "symbolic link") || !strings.Contains(rec.Error, "sub/link") {
		t.Fatalf("copy of a tree with a symlink: %+v", rec)
	}
	if after := sortedTree(treeHashes(t, f.path("h2", "hub"))); after != before {
		t.Errorf("the target was touched before the symlink was found:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ops) > 0 {
		t.Errorf("file operations on the target before refusing: %q", ops)
	}
}

func TestCopyMissingSource(t *testing.T) {
	f := copyFixture(t)
	rb := testRunbook(t, `  - id: s
    title: s
    action:
      copy: {from: a, to: b, paths: [hub/hub.ini, hub/nothing]}
`)
	before := sortedTree(treeHashes(t, f.path("h2", "hub")))
	rec := runAction(t, f.exec(rb, "s", nil, nil))
	if rec.OK || !strings.Contains(rec.Error, "source h1:"+filepath.ToSlash(f.path("h1", "hub/nothing"))) {
		t.Errorf("copy of a missing source: %+v", rec)
	}
	if after := sortedTree(treeHashes(t, f.path("h2", "hub"))); after != before {
		t.Errorf("a missing second source must stop the copy before the first is copied:\n%s", after)
	}
}

// TestServiceWithoutCommand: an inventory that names a service but not the command
// asked for must not make a silent no-op look like success.
func TestServiceWithoutCommand(t *testing.T) {
	f := newFixture(t)
	f.hosts["h1"].Services["svc"] = probe.Service{Stop: f.hosts["h1"].Services["svc"].Stop}
	rb := testRunbook(t, `  - id: start
    title: start
    action:
      service: {roles: [a], name: svc, do: start}
    gates:
      - service: {roles: [a], name: svc, state: running}
`)
	x := f.exec(rb, "start", nil, nil)
	rec := runAction(t, x)
	if rec.OK || !strings.Contains(rec.Error, "start") {
		t.Errorf("start without a start command: %+v", rec)
	}
	r := evalGate(t, x, 0)
	if r.Status != Error || !strings.Contains(strings.Join(r.Evidence, " "), "status") {
		t.Errorf("a service without a status command was judged: %+v", r)
	}
}

// noHashTransport is a target host without openssl (when noOpenSSL) and, unless
// keepSum, without sha256sum or shasum: copies are verified by the next method down,
// reading them back at last. asked counts the hash commands tried, by program.
type noHashTransport struct {
	writer
	asked   map[string]int
	keepSum bool
}

func (n noHashTransport) Run(ctx context.Context, cmd string, stdout, stderr io.Writer) (int, error) {
	switch {
	case strings.Contains(cmd, "openssl dgst"):
		n.asked["openssl"]++
		return 127, nil
	case strings.Contains(cmd, "sha256sum"):
		n.asked["sha256sum"]++
		if !n.keepSum {
			return 127, nil
		}
	}
	return n.writer.Run(ctx, cmd, stdout, stderr)
}

// TestCopyVerifiesWithoutOpenSSL: a host without openssl hashes with sha256sum, and one
// with neither has the copy read back; each learns what the host lacks on the first
// file, and a corrupted copy fails either way.
func TestCopyVerifiesWithoutOpenSSL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		keepSum bool
		check   func(asked map[string]int) bool
		want    string
	}{
		{"sha256sum", true, func(a map[string]int) bool { return a["openssl"] == 1 && a["sha256sum"] >= 2 }, "openssl once, then sha256sum for every file"},
		{"read-back", false, func(a map[string]int) bool { return a["openssl"] == 1 && a["sha256sum"] == 1 }, "each command once: enough to learn the host has none"},
	} {
		for _, corrupt := range []bool{false, true} {
			f := copyFixture(t)
			asked := map[string]int{}
			f.wrap = func(host string, tr probe.Transport) probe.Transport {
				if host != "h2" {
					return tr
				}
				if corrupt {
					tr = flipTransport{writer: tr.(writer), match: "b.properties"}
				}
				return noHashTransport{writer: tr.(writer), asked: asked, keepSum: tc.keepSum}
			}
			rec := runAction(t, f.exec(testRunbook(t, copyRunbook), "replace", nil, nil))
			if !corrupt && !tc.check(asked) {
				t.Errorf("%s: hash commands tried %v; want %s", tc.name, asked, tc.want)
			}
			switch {
			case corrupt && (rec.OK || !strings.Contains(rec.Error, "verification failed")):
				t.Errorf("%s verification missed a corrupted copy: %+v", tc.name, rec)
			case !corrupt && !rec.OK:
				t.Errorf("%s verification failed a good copy: %s", tc.name, rec.Error)
			}
		}
	}
}
