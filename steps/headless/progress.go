package headless

import (
	"fmt"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/steps"
)

// ProgressEvery is how long a long copy or wait goes without a progress line: one is
// printed when this much time passed since the last, or when a copy is another tenth of
// the way. The engine reports far more often; a log a person reads needs far less.
const ProgressEvery = 5 * time.Second

// Progress is a progress record of the --json stream: a copy's bytes, rate and time
// left, or a wait's check, attempt and time left. It is not journaled.
type Progress struct {
	Type           string    `json:"type"`
	Time           time.Time `json:"time"`
	Step           string    `json:"step"`
	What           string    `json:"what"` // copy or wait
	Host           string    `json:"host,omitempty"`
	BytesDone      int64     `json:"bytes_done,omitempty"`
	BytesTotal     int64     `json:"bytes_total,omitempty"`
	BytesPerSecond float64   `json:"bytes_per_second,omitempty"`
	Percent        float64   `json:"percent,omitempty"`
	ElapsedMS      int64     `json:"elapsed_ms,omitempty"`
	RemainingMS    int64     `json:"remaining_ms,omitempty"`
	Check          string    `json:"check,omitempty"`
	Attempt        int       `json:"attempt,omitempty"`
}

// progressState is what the printer remembers of one copy or wait: when it first
// heard of it and how far it was then (the rate is measured from there), when it last
// printed and at which tenth.
type progressState struct {
	start, last time.Time
	startDone   int64
	tenth       int64
}

func (p *Printer) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

func (p *Printer) every() time.Duration {
	if p.Every > 0 {
		return p.Every
	}
	return ProgressEvery
}

// state is the progress of key, and whether it was new.
func (p *Printer) state(key string, now time.Time) (*progressState, bool) {
	if p.progress == nil {
		p.progress = map[string]*progressState{}
	}
	st, ok := p.progress[key]
	if !ok {
		st = &progressState{start: now}
		p.progress[key] = st
	}
	return st, !ok
}

// copyProgress reports a copy when another tenth is done or Every passed.
func (p *Printer) copyProgress(pr steps.Progress) {
	if pr.Total <= 0 {
		return
	}
	now := p.clock()
	st, first := p.state("copy/"+pr.Step, now)
	if first {
		st.startDone = pr.Done
	}
	tenth := pr.Done * 10 / pr.Total
	if tenth <= st.tenth && now.Sub(st.last) < p.every() {
		return
	}
	if st.last.IsZero() && tenth == 0 && now.Sub(st.start) < p.every() {
		return // just started: nothing to say yet
	}
	st.tenth, st.last = tenth, now
	elapsed := now.Sub(st.start)
	rec := Progress{Type: RecProgress, Time: now.UTC(), Step: pr.Step, What: "copy", Host: pr.Host,
		BytesDone: pr.Done, BytesTotal: pr.Total, Percent: float64(pr.Done*1000/pr.Total) / 10, ElapsedMS: elapsed.Milliseconds()}
	var left time.Duration
	if elapsed > 0 && pr.Done > st.startDone {
		rec.BytesPerSecond = float64(pr.Done-st.startDone) / elapsed.Seconds()
		left = time.Duration(float64(pr.Total-pr.Done) / rec.BytesPerSecond * float64(time.Second))
		rec.RemainingMS = left.Milliseconds()
	}
	if p.JSON {
		p.writeRecord(rec)
		return
	}
	text := fmt.Sprintf("%s of %s (%d%%)", humanize.IBytes(uint64(pr.Done)), humanize.IBytes(uint64(pr.Total)), int(rec.Percent))
	if rec.BytesPerSecond > 0 {
		text += fmt.Sprintf(", %s/s, %s left", humanize.IBytes(uint64(rec.BytesPerSecond)), Duration(left))
	}
	fmt.Fprintf(p.W, "%s  %-9s %-20s %s\n", clock(now), "copy", pr.Step, text)
}

// waitProgress reports a polled check when it starts waiting and every Every after
// (every attempt with Verbose).
func (p *Printer) waitProgress(pr steps.Progress) {
	now := p.clock()
	st, first := p.state(steps.WaitKey(pr.Step, pr.Phase, pr.Gate), now)
	if !first && !p.Verbose && now.Sub(st.last) < p.every() {
		return
	}
	st.last = now
	if p.JSON {
		p.writeRecord(Progress{Type: RecProgress, Time: now.UTC(), Step: pr.Step, What: "wait", Check: pr.Last.Summary,
			Attempt: pr.Attempt, ElapsedMS: now.Sub(st.start).Milliseconds(), RemainingMS: pr.Remaining.Milliseconds()})
		return
	}
	fmt.Fprintf(p.W, "%s  %-9s %-20s waiting up to %s more: %s\n", clock(now), "wait", pr.Step,
		Duration(pr.Remaining), hosttext.Line(pr.Last.Summary))
}

// Duration is d as a person reads it: whole seconds from a second up (1m5s), tenths
// below (0.4s).
func Duration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
