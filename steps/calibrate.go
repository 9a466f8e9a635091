package steps

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/probe/ini"
)

// Calibration is a gate's statement that what it looks for rests on assumptions no
// vendor document gives: a log's folder and file name, the phrase that says a backup
// completed, an INI key's name. Before the run changes anything, the preflight looks
// for them in the host's own history (earlier logs, the INI file as it is); a gate whose
// wording was never seen there stops the run, with what was found instead, so the
// operator corrects the parameter before the window and not in the middle of it.
type Calibration struct {
	// Because says what the gate assumes, for the operator.
	Because string `yaml:"because"`
	// Role is whose history is read; by default the gate's own role. A component that
	// moves has its history on the server it leaves, not on the fresh installation.
	Role Ref `yaml:"role"`
	// Files is how many earlier files matching a log gate's pattern are read, newest
	// first (10 by default).
	Files int `yaml:"files"`
}

// defaultCalibrationFiles is how many earlier logs the preflight reads by default.
const defaultCalibrationFiles = 10

func (c *Calibration) compile(cc *compiler, ch *Check) {
	if c == nil {
		return
	}
	if strings.TrimSpace(c.Because) == "" {
		cc.errorf(ch.Pos, "calibrate needs because: (what the gate assumes that no vendor document gives)")
	}
	if c.Role.Name != "" {
		cc.role(c.Role, "calibrate.role", ch.Pos)
	}
	if c.Files < 0 {
		cc.errorf(ch.Pos, "calibrate.files must be a positive number of files")
	}
}

// role is the role whose history is read.
func (c *Calibration) role(own Ref) string {
	if c.Role.Name != "" {
		return c.Role.Name
	}
	return own.Name
}

// history is what the preflight found of a gate's wording on a host.
type history struct {
	// Seen counts the earlier files (or INI files) that show the gate's wording; Read
	// how many were looked at.
	Seen, Read int
	// Newest is the newest file that shows it (host:path), and its time.
	Newest     string
	NewestTime time.Time
}

// calibrator is a check whose assumptions the preflight can test against history.
type calibrator interface {
	calibration() *Calibration
	calibrate(ctx context.Context, x *stepExec) (CheckResult, history)
}

func (n *NewestFileCheck) calibration() *Calibration { return n.Calibrate }
func (k *INICheck) calibration() *Calibration        { return k.Calibrate }

// calibrate reads the earlier files matching the gate's pattern on the calibration
// role's host and judges each as the gate would: the gate's wording must have come out
// right at least once, or on the site's first real run it would wait for a phrase its
// software never writes, or fail a log like every good one before it.
func (n *NewestFileCheck) calibrate(ctx context.Context, x *stepExec) (CheckResult, history) {
	role := n.Calibrate.role(n.Role)
	h := x.host(role)
	var hist history
	if x.rb.Fit(role, h, Binding{Roles: x.bindings, Facts: x.facts}).Down {
		return CheckResult{Status: Skipped, Hosts: []string{h.Name}, Summary: fmt.Sprintf(
			"not checked: %s did not answer when the run started (it may be down), so its earlier logs cannot be read; the gate still reads the log it writes", h.Name)}, hist
	}
	dir, pat, files, all, err := n.listing(ctx, x, role)
	if err != nil {
		if isNotExist(err) {
			return CheckResult{Status: Fail, Hosts: []string{h.Name},
				Summary:  fmt.Sprintf("folder %s does not exist on %s: the gate's log folder was never seen there", dir, h.Name),
				Evidence: []string{fmt.Sprintf("%s:%s: no such folder", h.Name, dir)}}, hist
		}
		return errResult(err, h.Name), hist
	}
	r := CheckResult{Hosts: []string{h.Name}}
	if len(files) == 0 {
		r.Status = Fail
		r.Summary = fmt.Sprintf("no earlier file matching %s in %s on %s: the gate's file name was never seen there", pat, dir, h.Name)
		r.Evidence = []string{fmt.Sprintf("%s:%s holds %s", h.Name, dir, Plural(len(all), "file", "files"))}
		for i, f := range all {
			if i == 10 {
				r.Evidence = append(r.Evidence, fmt.Sprintf("... %d more", len(all)-i))
				break
			}
			r.Evidence = append(r.Evidence, fmt.Sprintf("%s (modified %s)", f.Name(), Stamp(f.ModTime())))
		}
		return r, hist
	}
	if len(n.Contains) == 0 && len(n.NotContains) == 0 {
		hist = history{Seen: len(files), Read: len(files), Newest: h.Name + ":" + path.Join(dir, files[0].Name()), NewestTime: files[0].ModTime()}
		r.Status = Pass
		r.Summary = fmt.Sprintf("%s matching %s in %s on %s (newest %s, %s)", Plural(len(files), "earlier file", "earlier files"), pat, dir, h.Name, files[0].Name(), Stamp(files[0].ModTime()))
		return r, hist
	}
	j, err := n.judge(x)
	if err != nil {
		return errResult(err, h.Name), hist
	}
	t, _, err := x.conn(ctx, role)
	if err != nil {
		return errResult(err, h.Name), hist
	}
	limit := n.Calibrate.Files
	if limit <= 0 {
		limit = defaultCalibrationFiles
	}
	window := int64(n.Window)
	if window <= 0 {
		window = defaultWindow
	}
	type seenFile struct {
		f     fs.FileInfo
		lines []string
		v     logVerdict
	}
	var wanted, passing []seenFile // wanted: every wanted pattern matched
	var newest *seenFile
	for i, f := range files {
		if i == limit {
			break
		}
		full := path.Join(dir, f.Name())
		data, _, err := readRange(ctx, t, full, 0, f.Size(), window)
		if err != nil {
			return errResult(fmt.Errorf("reading %s:%s: %w", h.Name, full, err), h.Name), hist
		}
		sf := seenFile{f: f, lines: splitLogLines(data)}
		sf.v = j.judge(sf.lines)
		hist.Read++
		if newest == nil {
			newest = &sf
		}
		allFound := true
		for _, k := range sf.v.found {
			allFound = allFound && k >= 0
		}
		if allFound {
			wanted = append(wanted, sf)
			if len(sf.v.bad) == 0 {
				passing = append(passing, sf)
			}
		}
	}
	wording := strings.Join(slashed(j.wantSrc), ", ")
	if wording == "" {
		wording = "a log without " + strings.Join(slashed(j.unwantedSrc), ", ")
	}
	quote := func(sf seenFile, i int) string {
		return fmt.Sprintf("%s line %d: %s", sf.f.Name(), i+1, x.redact(sf.lines[i]))
	}
	switch {
	case len(passing) > 0:
		best := passing[0]
		hist.Seen = len(passing)
		hist.Newest, hist.NewestTime = h.Name+":"+path.Join(dir, best.f.Name()), best.f.ModTime()
		r.Status = Pass
		r.Summary = fmt.Sprintf("%s seen in %d of %s on %s (newest %s, %s)", wording, len(passing),
			Plural(hist.Read, "earlier log", "earlier logs"), h.Name, best.f.Name(), Stamp(best.f.ModTime()))
		for _, i := range best.v.found {
			r.Evidence = append(r.Evidence, quote(best, i))
		}
	case len(wanted) > 0:
		// The wording is there, and so is something the gate refuses, in every log: the
		// gate would fail a start or a backup like every one this host has had.
		r.Status = Fail
		r.Summary = fmt.Sprintf("%s seen in %s on %s, but each of them also has a line the gate refuses (%s): the gate would fail a log like them",
			wording, Plural(len(wanted), "earlier log", "earlier logs"), h.Name, strings.Join(slashed(j.unwantedSrc), ", "))
		for _, i := range wanted[0].v.bad[:min(len(wanted[0].v.bad), 5)] {
			r.Evidence = append(r.Evidence, quote(wanted[0], i))
		}
	default:
		r.Status = Fail
		r.Summary = fmt.Sprintf("%s never seen on %s: none of the %s matching %s in %s has it",
			wording, h.Name, Plural(hist.Read, "newest file", "newest files"), pat, dir)
		r.Evidence = append(r.Evidence, fmt.Sprintf("the last lines of %s (modified %s):", newest.f.Name(), Stamp(newest.f.ModTime())))
		for i := max(len(newest.lines)-6, 0); i < len(newest.lines); i++ {
			r.Evidence = append(r.Evidence, quote(*newest, i))
		}
	}
	return r, hist
}

// calibrate looks for the key in the INI file on the calibration role's host, as it is
// now: a key the file does not have is a name the runbook assumed.
func (k *INICheck) calibrate(ctx context.Context, x *stepExec) (CheckResult, history) {
	role := k.Calibrate.role(k.Role)
	var hist history
	t, h, err := x.conn(ctx, role)
	if err != nil {
		return errResult(err, x.host(role).Name), hist
	}
	p, err := x.path(k.File, role)
	if err != nil {
		return errResult(err, h.Name), hist
	}
	r := CheckResult{Hosts: []string{h.Name}}
	data, err := readSmallFile(ctx, t, p)
	if err != nil {
		if isNotExist(err) {
			r.Status, r.Summary = Fail, fmt.Sprintf("%s does not exist on %s: the file the gate reads was never seen there", p, h.Name)
			r.Evidence = []string{fmt.Sprintf("%s:%s: no such file", h.Name, p)}
			return r, hist
		}
		return errResult(fmt.Errorf("%s:%s: %w", h.Name, p, err), h.Name), hist
	}
	f := ini.ParseAs(data, k.Format.of(p))
	hist.Read = 1
	if v, ok := f.Get(k.Section, k.Key); ok {
		hist.Seen, hist.Newest = 1, h.Name+":"+p
		r.Status, r.Summary = Pass, fmt.Sprintf("%s is set in %s on %s", k.keyName(), p, h.Name)
		r.Evidence = []string{fmt.Sprintf("%s:%s: %s=%s", h.Name, p, k.keyName(), x.redact(v))}
		return r, hist
	}
	keys := slices.Sorted(maps.Keys(f.Keys(k.Section)))
	r.Status = Fail
	r.Summary = fmt.Sprintf("%s was never seen in %s on %s: the file has %s", k.keyName(), p, h.Name, Plural(len(keys), "other key", "other keys"))
	for i, key := range keys {
		if i == 20 {
			r.Evidence = append(r.Evidence, "... "+strconv.Itoa(len(keys)-i)+" more keys")
			break
		}
		r.Evidence = append(r.Evidence, fmt.Sprintf("%s:%s: %s", h.Name, p, key))
	}
	return r, hist
}

func slashed(srcs []string) []string {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = "/" + s + "/"
	}
	return out
}
