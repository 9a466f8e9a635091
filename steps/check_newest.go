package steps

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	yast "github.com/goccy/go-yaml/ast"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/yamlpos"
)

// NewestFileCheck finds the newest file matching a pattern (a backup log, today's
// startup log), demands it be recent enough, and looks for lines that must and must not
// be there. It reads only the bytes that matter: what was appended since the step
// started when the file existed then, otherwise at most Window bytes from the end, so a
// gigabyte log costs no more than a small one.
type NewestFileCheck struct {
	Role Ref `yaml:"role"`
	// Path is a folder and a glob for the file name: "hub/logs/backup-*.log".
	Path *Template `yaml:"path"`
	// NewerThan is "step_start" or a duration ("24h": modified within the last day).
	NewerThan   string   `yaml:"newer_than"`
	Contains    Patterns `yaml:"contains"`
	NotContains Patterns `yaml:"not_contains"`
	// Window caps how much of the file is read ("1MiB" by default).
	Window ByteSize `yaml:"window"`
	// Calibrate says the file's name or wording rests on assumptions no vendor document
	// gives: the preflight looks for them in earlier files before the run changes
	// anything.
	Calibrate *Calibration `yaml:"calibrate"`

	age time.Duration
}

const defaultWindow = 1 << 20

func (n *NewestFileCheck) compile(c *compiler, ch *Check) {
	c.role(n.Role, "role", ch.Pos)
	c.tmpl(n.Path, "path", ch.Pos, true)
	if n.Path != nil {
		if _, pat := path.Split(n.Path.Src); !strings.Contains(pat, "{{") {
			if _, err := path.Match(pat, ""); err != nil {
				c.errorf(checkPos(ch, n.Path), "bad file pattern %q: %v", pat, err)
			}
		}
	}
	n.Calibrate.compile(c, ch)
	switch n.NewerThan {
	case "", "step_start":
	default:
		d, err := time.ParseDuration(n.NewerThan)
		if err != nil || d <= 0 {
			c.errorf(ch.Pos, "newer_than must be step_start or a duration such as 24h, not %q", n.NewerThan)
		}
		n.age = d
	}
}

func (n *NewestFileCheck) describe(x *stepExec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "newest %s on %s", x.mustRender(n.Path), x.host(n.Role.Name).Name)
	switch {
	case n.NewerThan == "step_start":
		b.WriteString(" is newer than the step's start")
	case n.age > 0:
		fmt.Fprintf(&b, " is at most %s old", n.age)
	}
	for _, p := range n.Contains {
		fmt.Fprintf(&b, ", contains /%s/", p.text(x))
	}
	for _, p := range n.NotContains {
		fmt.Fprintf(&b, ", does not contain /%s/", p.text(x))
	}
	return b.String()
}

// candidates lists the files matching the pattern, newest first.
func (n *NewestFileCheck) candidates(ctx context.Context, x *stepExec) (dir string, files []fs.FileInfo, err error) {
	dir, _, files, _, err = n.listing(ctx, x, n.Role.Name)
	return dir, files, err
}

// listing reads the pattern's folder on role's host: the files matching the pattern and
// every regular file there, each newest first.
func (n *NewestFileCheck) listing(ctx context.Context, x *stepExec, role string) (dir, pat string, files, all []fs.FileInfo, err error) {
	t, _, err := x.conn(ctx, role)
	if err != nil {
		return "", "", nil, nil, err
	}
	p, err := x.path(n.Path, role)
	if err != nil {
		return "", "", nil, nil, err
	}
	dir, pat = path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	entries, err := t.ReadDir(ctx, dir)
	if err != nil {
		return dir, pat, nil, nil, err
	}
	for _, e := range entries {
		if !e.Mode().IsRegular() {
			continue
		}
		all = append(all, e)
		if ok, _ := path.Match(pat, e.Name()); ok {
			files = append(files, e)
		}
	}
	// Newest first; ties broken by name so the result is stable.
	sort.Slice(files, func(i, j int) bool { return newer(files[i], files[j]) })
	sort.Slice(all, func(i, j int) bool { return newer(all[i], all[j]) })
	return dir, pat, files, all, nil
}

func newer(a, b fs.FileInfo) bool {
	if !a.ModTime().Equal(b.ModTime()) {
		return a.ModTime().After(b.ModTime())
	}
	return a.Name() > b.Name()
}

func (n *NewestFileCheck) mark(ctx context.Context, x *stepExec, into map[string]Mark) error {
	dir, files, err := n.candidates(ctx, x)
	if isNotExist(err) {
		return nil // no folder yet: every file found later is new
	}
	if err != nil {
		return err
	}
	h := x.host(n.Role.Name)
	for _, f := range files {
		into[h.Name+":"+path.Join(dir, f.Name())] = Mark{Size: f.Size(), ModTime: f.ModTime()}
	}
	return nil
}

func (n *NewestFileCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	rd, err := n.fetch(ctx, x)
	if err != nil {
		return errResult(err, rd.host)
	}
	j, err := n.judge(x)
	if err != nil {
		return errResult(err, rd.host)
	}
	return rd.verdict(j, x.redact)
}

// newestRead is what a look at the newest matching file fetched from its host: enough
// to judge it (verdict) without the host.
type newestRead struct {
	host, dir, pattern string
	// noFolder says the folder does not exist; file is nil when no file matches.
	noFolder bool
	file     fs.FileInfo
	// threshold is the oldest modification time that passes (zero: any).
	threshold time.Time
	// data are the bytes read, from offset start; none when the file is too old.
	data  []byte
	start int64
}

// fetch lists the folder, picks the newest matching file and, when it is recent
// enough, reads what matters of it: what was appended since the step started, or the
// last Window bytes.
func (n *NewestFileCheck) fetch(ctx context.Context, x *stepExec) (newestRead, error) {
	h := x.host(n.Role.Name)
	rd := newestRead{host: h.Name}
	dir, files, err := n.candidates(ctx, x)
	rd.dir = dir
	if err != nil {
		if isNotExist(err) {
			rd.noFolder = true
			return rd, nil
		}
		return rd, err
	}
	_, rd.pattern = path.Split(x.mustRender(n.Path))
	switch {
	case n.NewerThan == "step_start":
		rd.threshold = x.hostClock(h, x.start).Add(-x.clockSlack(h))
	case n.age > 0:
		rd.threshold = x.hostClock(h, x.now()).Add(-n.age)
	}
	if len(files) == 0 {
		return rd, nil
	}
	f := files[0]
	rd.file = f
	if rd.tooOld() {
		return rd, nil
	}
	full := path.Join(dir, f.Name())
	from := int64(0)
	if m, ok := x.marks[h.Name+":"+full]; ok && n.NewerThan == "step_start" && m.Size <= f.Size() {
		from = m.Size
	}
	window := int64(n.Window)
	if window <= 0 {
		window = defaultWindow
	}
	t, _, err := x.conn(ctx, n.Role.Name)
	if err != nil {
		return rd, err
	}
	if rd.data, rd.start, err = readRange(ctx, t, full, from, f.Size(), window); err != nil {
		return rd, fmt.Errorf("reading %s:%s: %w", h.Name, full, err)
	}
	return rd, nil
}

// tooOld says the newest file was modified before the threshold.
func (rd newestRead) tooOld() bool {
	return !rd.threshold.IsZero() && rd.file.ModTime().Before(rd.threshold)
}

// verdict judges what fetch read: the folder and a file must exist, the file must be
// recent enough, and its lines must satisfy j. redact cleans the quoted lines. It reads
// nothing from a host, so tables of reads test it.
func (rd newestRead) verdict(j *logJudge, redact func(string) string) CheckResult {
	h := rd.host
	r := CheckResult{Hosts: []string{h}}
	if rd.noFolder {
		r.Status = Fail
		r.Summary = fmt.Sprintf("folder %s does not exist on %s", rd.dir, h)
		r.Evidence = []string{fmt.Sprintf("%s:%s: no such folder", h, rd.dir)}
		return r
	}
	if rd.file == nil {
		r.Status = Fail
		r.Summary = fmt.Sprintf("no file matching %s in %s on %s", rd.pattern, rd.dir, h)
		r.Evidence = []string{fmt.Sprintf("%s:%s/%s: no match", h, rd.dir, rd.pattern)}
		return r
	}
	f := rd.file
	full := path.Join(rd.dir, f.Name())
	if rd.tooOld() {
		r.Status = Fail
		r.Summary = fmt.Sprintf("newest %s on %s is from %s, older than %s", f.Name(), h, Stamp(f.ModTime()), Stamp(rd.threshold))
		r.Evidence = []string{describeFile(h, full, f), fmt.Sprintf("needed: modified after %s (host clock)", Stamp(rd.threshold))}
		return r
	}
	header := fmt.Sprintf("%s:%s (modified %s, %d bytes; read bytes %d-%d)", h, full, Stamp(f.ModTime()), f.Size(), rd.start, rd.start+int64(len(rd.data)))
	r.Evidence = append(r.Evidence, header)
	lines := splitLogLines(rd.data)
	v := j.judge(lines)
	label := func(i int) string {
		if rd.start == 0 {
			return "line " + strconv.Itoa(i+1)
		}
		return "new line " + strconv.Itoa(i+1)
	}
	for _, i := range v.found {
		if i >= 0 {
			r.Evidence = append(r.Evidence, fmt.Sprintf("%s: %s", label(i), redact(lines[i])))
		}
	}
	// Each unwanted line is quoted once, in file order, however many patterns it matches.
	const maxBad = 20
	if len(v.bad) > 0 {
		// Lines already written stay written: waiting cannot make this pass.
		r.Final = true
		for k, i := range v.bad {
			if k == maxBad {
				r.Evidence = append(r.Evidence, fmt.Sprintf("... %d more unwanted lines", len(v.bad)-maxBad))
				break
			}
			r.Evidence = append(r.Evidence, fmt.Sprintf("%s: %s", label(i), redact(lines[i])))
		}
	}
	if len(v.problems) > 0 {
		r.Status = Fail
		r.Summary = fmt.Sprintf("%s on %s: %s", f.Name(), h, strings.Join(v.problems, "; "))
		return r
	}
	r.Status = Pass
	r.Summary = fmt.Sprintf("%s on %s (%s)", f.Name(), h, Stamp(f.ModTime()))
	if len(j.want) > 0 {
		r.Summary += " has the expected lines"
	}
	if len(j.unwanted) > 0 {
		r.Summary += " and no unwanted ones"
	}
	return r
}

// logVerdict is what a logJudge found.
// logJudge decides about a log's lines: each wanted pattern must match a line, and no
// unwanted pattern may match any. It only looks at lines, so the gate and the
// preflight's look at earlier logs judge a log the same way.
type logJudge struct {
	want, unwanted       []*regexp.Regexp
	wantSrc, unwantedSrc []string
}

// logVerdict is what a logJudge found.
type logVerdict struct {
	// problems say what is wrong ("no line matches /x/"); none means the log passes.
	problems []string
	// found is, per wanted pattern, the first line it matches (-1: none).
	found []int
	// bad lists the lines an unwanted pattern matches, in file order, each once.
	bad []int
}

// judge is the gate's judge for this step, its templated patterns rendered.
func (n *NewestFileCheck) judge(x *stepExec) (*logJudge, error) {
	j := &logJudge{}
	var err error
	if j.want, err = n.Contains.regexps(x); err != nil {
		return nil, err
	}
	if j.unwanted, err = n.NotContains.regexps(x); err != nil {
		return nil, err
	}
	for _, p := range n.Contains {
		j.wantSrc = append(j.wantSrc, p.text(x))
	}
	for _, p := range n.NotContains {
		j.unwantedSrc = append(j.unwantedSrc, p.text(x))
	}
	return j, nil
}

func (j *logJudge) judge(lines []string) logVerdict {
	var v logVerdict
	for k, re := range j.want {
		found := -1
		for i, l := range lines {
			if re.MatchString(l) {
				found = i
				break
			}
		}
		v.found = append(v.found, found)
		if found < 0 {
			v.problems = append(v.problems, fmt.Sprintf("no line matches /%s/", j.wantSrc[k]))
		}
	}
	badLines := map[int]bool{}
	for k, re := range j.unwanted {
		count := 0
		for i, l := range lines {
			if re.MatchString(l) {
				count++
				badLines[i] = true
			}
		}
		if count > 0 {
			v.problems = append(v.problems, fmt.Sprintf("%s /%s/", Plural(count, "line matches", "lines match"), j.unwantedSrc[k]))
		}
	}
	for i := range badLines {
		v.bad = append(v.bad, i)
	}
	sort.Ints(v.bad)
	return v
}

// readRange reads bytes [from, size) of a file, or only the last window bytes of that
// range, starting at a line boundary. It returns the data and where it starts.
func readRange(ctx context.Context, t probe.Transport, p string, from, size, window int64) ([]byte, int64, error) {
	if size <= from {
		return nil, from, nil
	}
	start := from
	trimmed := false
	if size-start > window {
		start, trimmed = size-window, true
	}
	f, err := t.Open(ctx, p)
	if err != nil {
		return nil, start, err
	}
	defer f.Close()
	buf := make([]byte, size-start)
	n, err := f.ReadAt(buf, start)
	if err != nil && err != io.EOF {
		return nil, start, err
	}
	buf = buf[:n]
	if trimmed {
		// Drop the partial first line so every line shown is whole.
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf, start = buf[i+1:], start+int64(i+1)
		}
	}
	return buf, start, nil
}

func splitLogLines(data []byte) []string {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// ByteSize is an amount of bytes written as 65536, "64KiB" or "1MiB".
type ByteSize int64

// UnmarshalYAML parses a number with an optional KiB, MiB or GiB suffix.
func (b *ByteSize) UnmarshalYAML(n yast.Node) error {
	var s string
	if err := yamlpos.DecodeNode(n, &s); err != nil {
		return err
	}
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
		}
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v <= 0 {
		return yamlpos.Errorf(yamlpos.PosOf(n), "invalid size: use a number of bytes or KiB, MiB, GiB")
	}
	*b = ByteSize(v * mult)
	return nil
}
