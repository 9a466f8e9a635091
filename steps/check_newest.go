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
	h := x.host(n.Role.Name)
	dir, files, err := n.candidates(ctx, x)
	if err != nil {
		if isNotExist(err) {
			return CheckResult{Status: Fail, Hosts: []string{h.Name},
				Summary:  fmt.Sprintf("folder %s does not exist on %s", dir, h.Name),
				Evidence: []string{fmt.Sprintf("%s:%s: no such folder", h.Name, dir)}}
		}
		return errResult(err, h.Name)
	}
	_, pat := path.Split(x.mustRender(n.Path))
	r := CheckResult{Hosts: []string{h.Name}}
	var threshold time.Time
	switch {
	case n.NewerThan == "step_start":
		threshold = x.hostClock(h, x.start).Add(-x.clockSlack(h))
	case n.age > 0:
		threshold = x.hostClock(h, x.now()).Add(-n.age)
	}
	if len(files) == 0 {
		r.Status = Fail
		r.Summary = fmt.Sprintf("no file matching %s in %s on %s", pat, dir, h.Name)
		r.Evidence = []string{fmt.Sprintf("%s:%s/%s: no match", h.Name, dir, pat)}
		return r
	}
	f := files[0]
	full := path.Join(dir, f.Name())
	if !threshold.IsZero() && f.ModTime().Before(threshold) {
		r.Status = Fail
		r.Summary = fmt.Sprintf("newest %s on %s is from %s, older than %s", f.Name(), h.Name, Stamp(f.ModTime()), Stamp(threshold))
		r.Evidence = []string{describeFile(h.Name, full, f), fmt.Sprintf("needed: modified after %s (host clock)", Stamp(threshold))}
		return r
	}

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
		return errResult(err, h.Name)
	}
	data, start, err := readRange(ctx, t, full, from, f.Size(), window)
	if err != nil {
		return errResult(fmt.Errorf("reading %s:%s: %w", h.Name, full, err), h.Name)
	}
	header := fmt.Sprintf("%s:%s (modified %s, %d bytes; read bytes %d-%d)", h.Name, full, Stamp(f.ModTime()), f.Size(), start, start+int64(len(data)))
	r.Evidence = append(r.Evidence, header)
	j, err := n.judge(x)
	if err != nil {
		return errResult(err, h.Name)
	}
	lines := splitLogLines(data)
	v := j.judge(lines)
	label := func(i int) string {
		if start == 0 {
			return "line " + strconv.Itoa(i+1)
		}
		return "new line " + strconv.Itoa(i+1)
	}
	for _, i := range v.found {
		if i >= 0 {
			r.Evidence = append(r.Evidence, fmt.Sprintf("%s: %s", label(i), x.redact(lines[i])))
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
			r.Evidence = append(r.Evidence, fmt.Sprintf("%s: %s", label(i), x.redact(lines[i])))
		}
	}
	if len(v.problems) > 0 {
		r.Status = Fail
		r.Summary = fmt.Sprintf("%s on %s: %s", f.Name(), h.Name, strings.Join(v.problems, "; "))
		return r
	}
	r.Status = Pass
	r.Summary = fmt.Sprintf("%s on %s (%s)", f.Name(), h.Name, Stamp(f.ModTime()))
	if len(n.Contains) > 0 {
		r.Summary += " has the expected lines"
	}
	if len(n.NotContains) > 0 {
		r.Summary += " and no unwanted ones"
	}
	return r
}

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
