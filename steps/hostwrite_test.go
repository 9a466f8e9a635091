package steps

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/local"
)

// planter is a host where someone who guessed cutover's next name plants a symbolic link
// there just before cutover creates it: a link to the canary file before a file is
// created or renamed to that name, a link to the canary folder before a folder is made.
// Without exclusive creation and an Lstat before every rename, the write would land in
// the canary.
type planter struct {
	writer
	match     *regexp.Regexp
	canary    string // a file outside every target
	canaryDir string // a folder outside every target
	mu        sync.Mutex
	planted   []string
}

func (p *planter) plant(name, to string) {
	if !p.match.MatchString(filepath.ToSlash(name)) {
		return
	}
	if err := os.Symlink(to, name); err == nil {
		p.mu.Lock()
		p.planted = append(p.planted, name)
		p.mu.Unlock()
	}
}

func (p *planter) Create(ctx context.Context, name string, perm fs.FileMode) (io.WriteCloser, error) {
	p.plant(name, p.canary)
	return p.writer.Create(ctx, name, perm)
}

func (p *planter) CreateExclusive(ctx context.Context, name string, perm fs.FileMode) (io.WriteCloser, error) {
	p.plant(name, p.canary)
	return p.writer.CreateExclusive(ctx, name, perm)
}

func (p *planter) Mkdir(ctx context.Context, name string, perm fs.FileMode) error {
	p.plant(name, p.canaryDir)
	return p.writer.Mkdir(ctx, name, perm)
}

func (p *planter) MkdirAll(ctx context.Context, name string, perm fs.FileMode) error {
	p.plant(name, p.canaryDir)
	return p.writer.MkdirAll(ctx, name, perm)
}

func (p *planter) Rename(ctx context.Context, from, to string) error {
	p.plant(to, p.canary)
	return p.writer.Rename(ctx, from, to)
}

func (p *planter) Planted() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.planted)
}

// canaries makes a canary file and folder outside the fixture's hosts and returns a
// function that fails the test if either changed.
func canaries(t *testing.T, f *fixture) (file, dir string, check func()) {
	t.Helper()
	out := filepath.Join(f.root, "outside")
	dir = filepath.Join(out, "canary.d")
	file = filepath.Join(out, "canary")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, filepath.Join(dir, "keep")} {
		if err := os.WriteFile(p, []byte("canary: nothing may write here\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := sortedTree(treeHashes(t, out))
	return file, dir, func() {
		t.Helper()
		if after := sortedTree(treeHashes(t, out)); after != before {
			t.Errorf("something was written outside the target, through a planted link:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	}
}

// TestPlantedLinks: a link planted at every temporary, staging and backup name cutover
// uses on a host, just before it uses it. Nothing is ever written through one: the step
// stops with a message naming the name (or, for the kept original's final name, the
// rename replaces the link), the canary outside stays as it was, and so does everything
// of the other hosts.
func TestPlantedLinks(t *testing.T) {
	t.Parallel()
	rb := testRunbook(t, copyRunbook+`  - id: edit
    title: edit lui.ini
    action:
      ini: {role: b, file: lui/lui.ini, set: {RegistryHubHost: spare.maestro.lab}}
`)
	for _, tc := range []struct {
		name, step, match string
		ok                bool // the step succeeds: the link was replaced, never followed
	}{
		{"INI new content", "edit", `lui\.ini\.cutover-tmp-[0-9a-f]{16}$`, false},
		{"INI original being kept", "edit", `lui\.ini\.cutover-orig-[0-9a-f]{16}$`, false},
		{"INI kept original's name", "edit", `lui\.ini\.cutover-RUNID$`, true},
		{"staging copy of a file", "replace", `hub\.ini\.cutover-incoming-[0-9a-f]{16}$`, false},
		{"staging copy of a folder", "replace", `reg\.cutover-incoming-[0-9a-f]{16}$`, false},
		{"file inside a staging copy", "replace", `reg\.cutover-incoming-[0-9a-f]{16}/sub/b\.properties$`, false},
		{"folder inside a staging copy", "replace", `reg\.cutover-incoming-[0-9a-f]{16}/sub$`, false},
		{"into copy's temporary file", "into", `reg/sub/b\.properties\.cutover-tmp-[0-9a-f]{16}$`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := copyFixture(t)
			f.write("h2", "lui/lui.ini", "RegistryHubHost=hub.maestro.lab\n")
			canary, canaryDir, check := canaries(t, f)
			pl := &planter{match: regexp.MustCompile(tc.match), canary: canary, canaryDir: canaryDir}
			f.wrap = func(host string, tr probe.Transport) probe.Transport {
				if host != "h2" {
					return tr
				}
				pl.writer = tr.(writer)
				return pl
			}
			h1 := sortedTree(treeHashes(t, f.path("h1", "")))
			rec := runAction(t, f.exec(rb, tc.step, nil, nil))
			planted := pl.Planted()
			if len(planted) != 1 {
				t.Fatalf("planted %q: want exactly one link (does cutover still use that name?)", planted)
			}
			check()
			if got := sortedTree(treeHashes(t, f.path("h1", ""))); got != h1 {
				t.Errorf("the source host changed:\n%s", got)
			}
			if tc.ok {
				if !rec.OK {
					t.Fatalf("the step failed: %s", rec.Error)
				}
				if fi, err := os.Lstat(planted[0]); err != nil || !fi.Mode().IsRegular() {
					t.Errorf("%s: the planted link is still there or the kept original is not a file: %v", planted[0], err)
				}
				return
			}
			if rec.OK {
				t.Fatal("the step succeeded although a link was planted at a name it creates")
			}
			if !strings.Contains(rec.Error, planted[0]) || !strings.Contains(rec.Error, "nothing was written through it") {
				t.Errorf("the message does not name the planted name %s: %s", planted[0], rec.Error)
			}
		})
	}
}

// TestINIFileThatIsALink: an INI file that is itself a symbolic link is refused, with
// what it points to; the file behind it is left alone.
func TestINIFileThatIsALink(t *testing.T) {
	f := newFixture(t)
	canary, _, check := canaries(t, f)
	if err := os.MkdirAll(f.path("h1", "lui"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(canary, f.path("h1", "lui/lui.ini")); err != nil {
		t.Fatal(err)
	}
	rb := testRunbook(t, `  - id: edit
    title: edit
    action:
      ini: {role: a, file: lui/lui.ini, set: {RegistryHubHost: spare}}
`)
	rec := runAction(t, f.exec(rb, "edit", nil, nil))
	if rec.OK || !strings.Contains(rec.Error, "lui/lui.ini: it is a symbolic link (to "+canary+")") ||
		!strings.Contains(rec.Error, "refusing the INI file") {
		t.Errorf("editing an INI file that is a link: %+v", rec)
	}
	check()
	if m, _ := filepath.Glob(f.path("h1", "lui/*cutover*")); len(m) > 0 {
		t.Errorf("left behind: %v", m)
	}
}

// TestReadsOfHostFilesAreBounded: an INI file that is a link to /dev/zero, and one larger
// than the limit, are errors naming the file and the limit, read no further than that.
func TestReadsOfHostFilesAreBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := os.MkdirAll(f.path("h1", "lui"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", f.path("h1", "lui/zero.ini")); err != nil {
		t.Fatal(err)
	}
	big := f.write("h1", "lui/big.ini", "")
	if err := os.Truncate(big, maxSmallFile+1); err != nil {
		t.Fatal(err)
	}
	rb := testRunbook(t, `  - id: zero
    title: zero
    gates:
      - ini: {role: a, file: lui/zero.ini, key: K, equals: v}
  - id: big
    title: big
    gates:
      - ini: {role: a, file: lui/big.ini, key: K, equals: v}
  - id: edit-zero
    title: edit
    action:
      ini: {role: a, file: lui/zero.ini, set: {K: v}}
`)
	for step, want := range map[string]string{
		"zero": "zero.ini is not a regular file (a character device)",
		"big":  "big.ini is larger than 4 MiB, the most cutover reads of such a file",
	} {
		r := evalGate(t, f.exec(rb, step, nil, nil), 0)
		if r.Status != Error || !strings.Contains(r.Summary, want) {
			t.Errorf("%s: %+v; want an error with %q", step, r, want)
		}
	}
	rec := runAction(t, f.exec(rb, "edit-zero", nil, nil))
	if rec.OK || !strings.Contains(rec.Error, "it is a symbolic link (to /dev/zero)") {
		t.Errorf("editing an INI file that is a link to /dev/zero: %+v", rec)
	}
	// A file that grows past the limit after it was looked at is cut off at the limit.
	p := f.write("h1", "grow.ini", "small\n")
	g := &growing{Transport: &local.Transport{}, grow: p}
	if _, err := readSmallFile(context.Background(), g, p); err == nil || !strings.Contains(err.Error(), "larger than 4 MiB") {
		t.Errorf("a file that grew while it was read: %v", err)
	}
}

// growing makes a file enormous between its Stat and its Open, as a log being written
// might.
type growing struct {
	probe.Transport
	grow string
}

func (g *growing) Open(ctx context.Context, p string) (probe.File, error) {
	if p == g.grow {
		if err := os.Truncate(p, 3*maxSmallFile); err != nil {
			return nil, err
		}
	}
	return g.Transport.Open(ctx, p)
}

// TestPutFile: the shared write helper writes a new file, keeps an original once per run,
// refuses a link or a folder at the file's name, and refuses a transport that cannot
// create exclusively.
func TestPutFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tr := &local.Transport{}
	p := filepath.Join(dir, "nginx.conf")
	if _, err := putFile(ctx, tr, fileWrite{Host: "h", Path: p, Data: []byte("v1\n")}); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("writing a missing file without Create: %v", err)
	}
	kept, err := putFile(ctx, tr, fileWrite{Host: "h", Path: p, Data: []byte("v1\n"), Create: true, KeepRun: "R1"})
	if err != nil || kept != "" {
		t.Fatalf("a new file: kept %q, %v", kept, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("a new file's mode is %v, want 0644", fi.Mode().Perm())
	}
	for i, data := range []string{"v2\n", "v3\n"} {
		kept, err = putFile(ctx, tr, fileWrite{Host: "h", Path: p, Data: []byte(data), KeepRun: "R2"})
		if err != nil || kept != p+".cutover-R2" {
			t.Fatalf("write %d: kept %q, %v", i, kept, err)
		}
	}
	if b, _ := os.ReadFile(p); string(b) != "v3\n" {
		t.Errorf("the file holds %q", b)
	}
	if b, _ := os.ReadFile(p + ".cutover-R2"); string(b) != "v1\n" {
		t.Errorf("the kept original holds %q, want the first original of the run", b)
	}
	// Leftovers of an attempt cut short are swept; nothing else of the folder is touched.
	for _, n := range []string{"nginx.conf.cutover-tmp-0123456789abcdef", "nginx.conf.cutover-orig-0123456789abcdef", "other.conf.cutover-tmp-0123456789abcdef", "nginx.conf.cutover-tmp-x"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := putFile(ctx, tr, fileWrite{Host: "h", Path: p, Data: []byte("v4\n")}); err != nil {
		t.Fatal(err)
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"nginx.conf", "nginx.conf.cutover-R2", "nginx.conf.cutover-tmp-x", "other.conf.cutover-tmp-0123456789abcdef"}; !slices.Equal(names, want) {
		t.Errorf("folder after the write: %q, want %q", names, want)
	}

	link := filepath.Join(dir, "link.conf")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	if _, err := putFile(ctx, tr, fileWrite{Host: "h", Path: link, Data: []byte("x"), Create: true}); err == nil || !strings.Contains(err.Error(), "symbolic link (to "+p+")") {
		t.Errorf("writing at a link: %v", err)
	}
	if _, err := putFile(ctx, tr, fileWrite{Host: "h", Path: dir, Data: []byte("x"), Create: true}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("writing at a folder: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "v4\n" {
		t.Errorf("a refused write changed the file: %q", b)
	}
	if _, err := putFile(ctx, struct{ probe.Transport }{tr}, fileWrite{Host: "h", Path: p, Data: []byte("x")}); err == nil || !strings.Contains(err.Error(), "cannot create a file exclusively") {
		t.Errorf("a transport without exclusive create: %v", err)
	}
}
