package steps

import (
	"strings"
	"testing"
	"time"
)

// TestLineWriterCapsEndlessLines: output without a newline is kept up to maxLine bytes
// per line, the rest counted and dropped, whatever the writes' sizes; lines after it are
// whole again.
func TestLineWriterCapsEndlessLines(t *testing.T) {
	var lines []string
	w := &lineWriter{emit: func(l string) { lines = append(lines, l) }, keep: 40}
	chunk := []byte(strings.Repeat("x", 32<<10))
	for range 100 << 20 / len(chunk) { // 100 MiB without a newline
		w.Write(chunk)
		if len(w.part) > maxLine {
			t.Fatalf("the partial line grew to %d bytes", len(w.part))
		}
	}
	w.Write([]byte("tail\r\nnext line\nlast without newline"))
	w.flush()
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	if l := lines[0]; len(l) > maxLine+100 || !strings.HasPrefix(l, "xxxx") ||
		!strings.HasSuffix(l, "[line cut: 104792069 more bytes without a newline]") {
		t.Errorf("the endless line was kept as %d bytes ending %q", len(l), l[max(0, len(l)-80):])
	}
	if lines[1] != "next line" || lines[2] != "last without newline" {
		t.Errorf("the lines after it: %q", lines[1:])
	}
}

// TestRunActionCapsEndlessOutput: a command that prints 100 MB without a newline ends
// with its output line capped.
func TestRunActionCapsEndlessOutput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rb := testRunbook(t, `  - id: endless
    title: endless
    action:
      run: {role: a, command: "head -c 100000000 /dev/zero | tr '\\000' x; echo; echo done"}
`)
	rec := runAction(t, f.exec(rb, "endless", nil, nil))
	if !rec.OK || len(rec.Output) != 2 || rec.Output[1] != "h1: done" {
		t.Fatalf("endless line: ok %v, %d lines, error %q", rec.OK, len(rec.Output), rec.Error)
	}
	if l := rec.Output[0]; len(l) > maxLine+100 || !strings.Contains(l, "[line cut: ") {
		t.Errorf("the 100 MB line was kept as %d bytes", len(l))
	}
}

// TestServiceActionTimeout: a service command that does not end within the action's
// timeout is stopped and the action fails saying so; without a timeout in the runbook
// the default applies.
func TestServiceActionTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	svc := f.hosts["h1"].Services["svc"]
	svc.Stop = "sleep 30"
	f.hosts["h1"].Services["svc"] = svc
	rb := testRunbook(t, `  - id: stop
    title: stop
    action:
      service: {roles: [a], name: svc, do: stop, timeout: 200ms}
`)
	rec := runAction(t, f.exec(rb, "stop", nil, nil))
	if rec.OK || !strings.Contains(rec.Error, "h1: the stop command of svc did not end within 200ms (the action's timeout)") {
		t.Errorf("a service command past its timeout: %+v", rec)
	}
	if d := (&ServiceAction{}).timeout(); d != 10*time.Minute {
		t.Errorf("default service timeout %s", d)
	}
}
