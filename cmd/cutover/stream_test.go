package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// streamSite writes an inventory (this machine as "me", and "gone", whose SSH port on
// loopback answers nothing) and a runbook file with the given steps, on role app.
func streamSite(t *testing.T, stepsYAML string) (inv, rbFile, dir string) {
	t.Helper()
	dir = t.TempDir()
	inv = filepath.Join(dir, "inventory.yaml")
	os.WriteFile(inv, []byte("hosts:\n  me:\n    local: true\n    install_dir: "+dir+"\n  gone:\n    address: 127.0.0.1\n    port: 1\n"), 0o644)
	rbFile = filepath.Join(dir, "site.yaml")
	os.WriteFile(rbFile, []byte("id: site/stream\ntitle: Stream test\nsystem: Site\nsource: the site's own procedure\n"+
		"roles:\n  - {id: app, title: the application server}\nsteps:\n"+stepsYAML), 0o644)
	return inv, rbFile, dir
}

const (
	stepTouch = `  - id: touch
    title: Write a file
    action: {run: {role: app, command: "echo hi > {{ roles.app.install_dir }}/hi.txt"}}
    gates:
      - file_exists: {role: app, path: "{{ roles.app.install_dir }}/hi.txt"}
`
	stepGateFails = `  - id: check-missing
    title: Look for a file nobody wrote
    action: {run: {role: app, command: "true"}}
    gates:
      - file_exists: {role: app, path: "{{ roles.app.install_dir }}/nowhere.txt"}
`
	stepManual = `  - id: by-hand
    title: Do something by hand
    manual: true
    text: Unplug the old server.
`
	stepSlow = `  - id: slow
    title: Take a while
    action: {run: {role: app, command: "sleep 2"}}
  - id: after
    title: Come after
    action: {run: {role: app, command: "true"}}
`
)

// streamRecords parses a --json stream: one JSON object per line.
func streamRecords(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("a line of the stream is not JSON: %v\n%s", err, sc.Text())
		}
		recs = append(recs, m)
	}
	return recs
}

// wantStreamEnds checks the stream's first and terminal records and returns the latter.
func wantStreamEnds(t *testing.T, out string, outcome string, code int, step string, resumable bool) map[string]any {
	t.Helper()
	recs := streamRecords(t, out)
	if len(recs) < 2 {
		t.Fatalf("a stream of %d records:\n%s", len(recs), out)
	}
	if first := recs[0]; first["type"] != "stream" || first["format_version"] != float64(1) || first["cutover_version"] == "" {
		t.Errorf("first record: %v", first)
	}
	last := recs[len(recs)-1]
	if last["type"] != "stream_end" || last["outcome"] != outcome || last["exit_code"] != float64(code) {
		t.Errorf("terminal record %v, want outcome %s and exit code %d", last, outcome, code)
	}
	if got, _ := last["step"].(string); got != step {
		t.Errorf("terminal record names step %q, want %q: %v", got, step, last)
	}
	if r, _ := last["reason"].(string); r == "" {
		t.Errorf("terminal record gives no reason: %v", last)
	}
	resume, _ := last["resume"].(string)
	if resumable != (resume != "") || (resumable && !strings.HasPrefix(resume, "cutover resume ")) {
		t.Errorf("terminal record's resume command %q (resumable: %v)", resume, resumable)
	}
	for _, r := range recs[1 : len(recs)-1] {
		if r["type"] == "stream" || r["type"] == "stream_end" {
			t.Errorf("a stream record in the middle: %v", r)
		}
	}
	validateStream(t, out)
	return last
}

// TestStreamTerminalRecord: however a headless run stops, its --json stream starts with
// the format record and ends with a terminal record saying how, where and how to go on.
func TestStreamTerminalRecord(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, steps string, extra ...string) (result, string) {
		inv, rb, dir := streamSite(t, steps)
		jpath := filepath.Join(dir, "run.jsonl")
		args := append([]string{"run", rb, "-i", inv, "--role", "app=me", "--headless", "--json", "--journal", jpath}, extra...)
		return cutover(t, args...), jpath
	}
	t.Run("done", func(t *testing.T) {
		t.Parallel()
		r, jpath := run(t, stepTouch)
		wantCode(t, r, 0)
		end := wantStreamEnds(t, r.stdout, "done", 0, "", false)
		if end["journal"] != jpath {
			t.Errorf("terminal record names journal %v, want %s", end["journal"], jpath)
		}
	})
	t.Run("gate failed", func(t *testing.T) {
		t.Parallel()
		r, jpath := run(t, stepTouch+stepGateFails)
		wantCode(t, r, 1)
		end := wantStreamEnds(t, r.stdout, "gate_failed", 1, "check-missing", true)
		if end["resume"] != "cutover resume "+jpath+" --headless" {
			t.Errorf("resume command: %v", end["resume"])
		}
	})
	t.Run("needs an operator", func(t *testing.T) {
		t.Parallel()
		r, _ := run(t, stepTouch+stepManual)
		wantCode(t, r, 1)
		wantStreamEnds(t, r.stdout, "needs_operator", 1, "by-hand", true)
	})
	t.Run("unreachable host", func(t *testing.T) {
		t.Parallel()
		r, _ := run(t, stepTouch, "--role", "app=gone")
		wantCode(t, r, 4)
		end := wantStreamEnds(t, r.stdout, "unreachable", 4, "", false)
		if !strings.Contains(end["reason"].(string), "gone") {
			t.Errorf("the reason does not name the host: %v", end["reason"])
		}
	})
	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		r, _ := run(t, stepTouch, "--role", "nosuchrole=me")
		wantCode(t, r, 2)
		end := wantStreamEnds(t, r.stdout, "bad_input", 2, "", false)
		if !strings.Contains(end["reason"].(string), "nosuchrole") {
			t.Errorf("the reason does not say what is wrong: %v", end["reason"])
		}
	})
	t.Run("bad flag", func(t *testing.T) {
		t.Parallel()
		r, _ := run(t, stepTouch, "--keepalive", "soon")
		wantCode(t, r, 2)
		wantStreamEnds(t, r.stdout, "bad_input", 2, "", false)
	})
}

// TestStreamInterrupted: SIGINT during an action stops the run at the next safe point
// (once the action has ended), and the stream ends with an interrupted record and the
// command that resumes the run.
func TestStreamInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program and runs it")
	}
	t.Parallel()
	bin := buildCutover(t)
	inv, rb, dir := streamSite(t, stepTouch+stepSlow)
	jpath := filepath.Join(dir, "run.jsonl")
	cmd := exec.Command(bin, "run", rb, "-i", inv, "--role", "app=me", "--headless", "--json", "--journal", jpath)
	var stdout, stderr bytes.Buffer
	pr, pw, _ := os.Pipe()
	er, ew, _ := os.Pipe()
	cmd.Stdout, cmd.Stderr = pw, ew
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	ew.Close()
	// Read until the slow action has started, then interrupt.
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		stdout.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), `"type":"action_start"`) && strings.Contains(sc.Text(), `"step":"slow"`) {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		defer close(done)
		esc := bufio.NewScanner(er)
		for esc.Scan() {
			stderr.WriteString(esc.Text() + "\n")
		}
	}()
	for sc.Scan() {
		stdout.WriteString(sc.Text() + "\n")
	}
	<-done
	err := cmd.Wait()
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err == nil {
		code = 0
	}
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s\n%s", code, stdout.String(), stderr.String())
	}
	end := wantStreamEnds(t, stdout.String(), "interrupted", 3, "slow", true)
	if !strings.Contains(end["reason"].(string), "interrupted") {
		t.Errorf("reason: %v", end["reason"])
	}
}
