package steps_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
)

const replaceLabRunbook = `id: test/replace
title: Replace the data folder
system: Test
source: the tests
roles:
  - {id: old, title: the old server}
  - {id: new, title: the new server}
steps:
  - id: transfer
    title: Copy the data
    action:
      copy: {from: old, to: new, direct: %t, paths: [data]}
`

// smallDisk is a df stand-in on the lab host's PATH (its bin folder comes first) that
// says the file system has 2 MiB free, as df -Pk writes it.
const smallDisk = `#!/bin/sh
echo 'Filesystem     1024-blocks  Used Available Capacity Mounted on'
echo '/dev/small            8192  6144      2048      75% /small'
`

// TestReplaceChecksFreeSpaceInLab: a replacing copy keeps the old target aside, so the
// target's file system must hold the whole new copy besides it. Over real SSH, with a
// df on the target that reports 2 MiB free for a copy of about 10 MiB, the copy is
// refused before anything is written (the target's tree, staging names included, is
// unchanged), saying so; with the host's real df it goes through and its record says
// what the check found.
func TestReplaceChecksFreeSpaceInLab(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(map[bool]string{false: "relayed", true: "direct"}[direct], func(t *testing.T) {
			m := startCopyLab(t, direct)
			rb, err := steps.Parse("replace.yaml", []byte(fmt.Sprintf(replaceLabRunbook, direct)))
			if err != nil {
				t.Fatal(err)
			}
			m.rb = rb
			// What the new server has now: an earlier copy cut short.
			for i := range 5 {
				p := m.path("new", fmt.Sprintf("data/d%d/f%02d.bin", i%4, i))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, pattern(i+50, 700), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			df := filepath.Join(m.lab.HostRoot("new"), "bin", "df")
			if err := os.WriteFile(df, []byte(smallDisk), 0o755); err != nil {
				t.Fatal(err)
			}
			before := m.tree(t, "new")
			res, e := m.run(t)
			if res.Code == headless.ExitDone {
				t.Fatal("the copy went through on a file system too small for it")
			}
			msg := res.Message + "\n" + actionError(e, "transfer")
			for _, want := range []string{"not enough free space", "for the new copy while the old one is kept aside", "2.0 MiB free", "Nothing was copied"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the refusal lacks %q:\n%s", want, msg)
				}
			}
			if after := m.tree(t, "new"); after != before {
				t.Errorf("the refused copy changed the target:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			m.checkNoKeys(t)

			if err := os.Remove(df); err != nil {
				t.Fatal(err)
			}
			res, e = m.run(t)
			if res.Code != headless.ExitDone {
				t.Fatalf("with room on the target: code %d: %s", res.Code, res.Message)
			}
			if ch := actionChanges(e, "transfer"); !strings.Contains(ch, "free space checked: ") || !strings.Contains(ch, " to write, ") {
				t.Errorf("the copy's record does not say what the free space check found:\n%s", ch)
			}
			if aside, _ := filepath.Glob(m.path("new", "data.cutover-*-replaced")); len(aside) != 1 {
				t.Errorf("what the copy replaced is not kept aside: %v", aside)
			}
		})
	}
}

// run starts a new run of m.rb and drives it headless to its end or first stop.
func (m *copyLab) run(t *testing.T) (headless.Result, *steps.Engine) {
	t.Helper()
	run, err := m.cfg.Start(context.Background(), m.rb, steps.Inputs{Roles: m.roles}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	res := headless.Drive(context.Background(), run.Engine, &steps.Answerer{Via: "test"}, run.Journal.Path())
	if !run.Engine.Finished() {
		// Ended, so its locks go and the next run may start.
		if err := run.Engine.End("ended by the test"); err != nil {
			t.Fatal(err)
		}
	}
	return res, run.Engine
}

func actionError(e *steps.Engine, id string) string {
	ss := e.State().Step(id)
	if ss == nil || ss.Action == nil {
		return ""
	}
	return ss.Action.Error
}
