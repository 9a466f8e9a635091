package headless

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/steps"
)

// fakeClock is a printer clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// copyFeed reports a copy of total bytes at rate bytes a second, as the engine does
// every 100ms, to p, moving the clock.
func copyFeed(p *Printer, c *fakeClock, total, rate int64) {
	for done := int64(0); done < total; {
		c.t = c.t.Add(100 * time.Millisecond)
		done = min(total, done+rate/10)
		p.Progress(steps.Progress{Step: "copy-data", Done: done, Total: total})
	}
}

// TestCopyProgressTenths: a fast copy reports each tenth of the way, in human-readable
// bytes, rate and time left.
func TestCopyProgressTenths(t *testing.T) {
	var out bytes.Buffer
	c := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	p := &Printer{W: &out, now: c.now}
	copyFeed(p, c, 800<<20, 100<<20) // 800 MiB at 100 MiB/s: 8 s
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines, want one per tenth:\n%s", len(lines), out.String())
	}
	if want := "03:04:05  copy      copy-data            80 MiB of 800 MiB (10%), 100 MiB/s, 7s left"; lines[0] != want {
		t.Errorf("first line\n%q, want\n%q", lines[0], want)
	}
	if !strings.Contains(lines[9], "800 MiB of 800 MiB (100%)") || !strings.HasSuffix(lines[9], "0.0s left") {
		t.Errorf("last line %q", lines[9])
	}
}

// TestCopyProgressEvery: a slow copy reports every Every, not more often.
func TestCopyProgressEvery(t *testing.T) {
	var out bytes.Buffer
	c := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	p := &Printer{W: &out, JSON: true, now: c.now}
	copyFeed(p, c, 100<<20, 1<<20) // 100 MiB at 1 MiB/s: 100 s, a tenth every 10 s
	var recs []Progress
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r Progress
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 20 {
		t.Errorf("%d records in 100 s, want 20 (every 5 s)", len(recs))
	}
	for i, r := range recs {
		if r.Type != "progress" || r.What != "copy" || r.Step != "copy-data" || r.BytesTotal != 100<<20 {
			t.Fatalf("record %d: %+v", i, r)
		}
		if i > 0 && r.Time.Sub(recs[i-1].Time) < 5*time.Second {
			t.Errorf("records %d and %d are %s apart", i-1, i, r.Time.Sub(recs[i-1].Time))
		}
	}
	mid := recs[9] // at about 50 s: half done, 50 s left at 1 MiB/s
	left := float64(mid.BytesTotal-mid.BytesDone) / mid.BytesPerSecond * 1000
	if mid.Percent < 49 || mid.Percent > 51 || math.Abs(mid.BytesPerSecond-(1<<20)) > 1<<10 || math.Abs(float64(mid.RemainingMS)-left) > 1 {
		t.Errorf("halfway: %+v", mid)
	}
}

// TestWaitProgressEvery: a polled gate says it waits when it starts, then every Every;
// with Verbose every attempt.
func TestWaitProgressEvery(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		var out bytes.Buffer
		c := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		p := &Printer{W: &out, Verbose: verbose, now: c.now}
		last := &steps.CheckResult{Summary: "port 8080 not open yet"}
		for i := range 30 { // 30 attempts, 1 s apart
			p.Progress(steps.Progress{Step: "start", Phase: steps.PhaseGate, Attempt: i + 1, Remaining: time.Duration(90-i) * time.Second, Last: last})
			c.t = c.t.Add(time.Second)
		}
		n, want := strings.Count(out.String(), "waiting up to"), 6
		if verbose {
			want = 30
		}
		if n != want {
			t.Errorf("verbose %v: %d wait lines, want %d:\n%s", verbose, n, want, out.String())
		}
		if !strings.Contains(out.String(), "waiting up to 1m30s more: port 8080 not open yet") {
			t.Errorf("first wait line:\n%s", out.String())
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{400 * time.Millisecond: "0.4s", 65 * time.Second: "1m5s", 2*time.Hour + 500*time.Millisecond: "2h0m1s"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
}
