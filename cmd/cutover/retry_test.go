package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestHeadlessResumeLooksAgain: a manual step stopped by a failed pre-check goes on
// after the operator fixed the cause and resumed; a failed gate is looked at again with
// --decide STEP=retry. Each stop says how to go on.
func TestHeadlessResumeLooksAgain(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	dir := t.TempDir()
	rb := filepath.Join(dir, "swap.yaml")
	os.WriteFile(rb, []byte(`id: site/swap-disk
title: Swap the data disk
system: Site
source: the site's own procedure
roles:
  - {id: app, title: the server}
steps:
  - id: swap
    title: Swap the disk
    manual: true
    pre:
      - name: the maintenance flag is set
        file_exists: {role: app, path: maintenance}
    gates:
      - name: the new disk is mounted
        file_exists: {role: app, path: new-disk}
`), 0o644)
	answers := filepath.Join(dir, "answers.yaml")
	os.WriteFile(answers, []byte("answers:\n  swap: {confirm: true}\n"), 0o644)
	jpath := filepath.Join(dir, "run.jsonl")
	wantCode(t, cutover(t, "run", rb, "-i", l.Inventory(), "--role", "app=lui", "--headless", "--journal", jpath, "--answers", answers),
		1, "maintenance is missing on lui (a resume checks the pre-checks again)")

	os.WriteFile(l.file("lui", "maintenance"), nil, 0o644)
	wantCode(t, cutover(t, "resume", jpath, "--headless", "--answers", answers),
		1, "the pre-checks of step swap are checked again", "PASS  the maintenance flag is set", "confirm", "FAIL  the new disk is mounted",
		"to check again once fixed: resume with --decide swap=retry")

	wantCode(t, cutover(t, "resume", jpath, "--headless", "--decide", "swap=again"), 2, "use accept, rerun or retry")
	os.WriteFile(l.file("lui", "new-disk"), nil, 0o644)
	wantCode(t, cutover(t, "resume", jpath, "--headless", "--decide", "swap=retry"), 0, "retry [flag]", "PASS  the new disk is mounted", "every step is done")
}
